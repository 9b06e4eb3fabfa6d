# The script tests/vm/run boots to find out whether a backend works here:
# reaching it means the VM's kernel booted, its root was built and loop and
# dm-mod were loaded.
echo "probe: userland reached"
