# One flag per line, with the reason (after curl's PickyWarnings.cmake).
set(SM_WARNINGS
  -Wall                  # the common set
  -Wextra                # and the rest of the useful ones
  -Wpedantic             # stay within ISO C
  -Wshadow               # a local hiding another is a bug waiting
  -Wstrict-prototypes    # f() means "any arguments" in C; say (void)
  -Wmissing-prototypes   # a non-static function without a header is dead or misplaced
  -Wformat=2             # printf-family misuse, including non-literal formats
  -Wvla                  # no stack arrays sized at run time
  -Wcast-qual            # casting away const hides writes to read-only data
  -Wundef                # an undefined macro in #if is a typo
  -Wdouble-promotion     # float silently widened to double on hot paths
  -Wfloat-equal          # == on floats is almost always a rounding bug
)
if(SM_WERROR)
  list(APPEND SM_WARNINGS -Werror)
endif()
