#include "y/y.h"

#include "x/x.h"
