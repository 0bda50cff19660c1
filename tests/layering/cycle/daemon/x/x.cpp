// Fixture: x and y include each other (layers.cmake must find the cycle).
#include "x/x.h"

#include "y/y.h"
