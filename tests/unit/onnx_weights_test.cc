// Unit tests for onnx_weights: filled in by its owner.
#include <gtest/gtest.h>
