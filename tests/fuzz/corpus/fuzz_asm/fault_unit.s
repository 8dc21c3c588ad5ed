# The test architecture has 2 MVMUs per core.
# expect: fault MVMU 3 does not exist (a core has 2)
.core 0 0
	mvm.i8 r1, r1, 3, 8
	halt
