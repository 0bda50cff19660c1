// Fixture: a core file including a host header (layers.cmake must refuse it).
#include "a/a.h"

#include "b/b.h"
