#include <gtest/gtest.h>
#include "core/chat/template.h"
TEST(Jinja, Smoke) {}
