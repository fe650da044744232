// The wrappers are inline in CCurl.h; SwiftPM needs one C file to build the target.
#include "CCurl.h"
