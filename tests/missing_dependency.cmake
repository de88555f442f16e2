# The test that stands in for a program whose packages were not found at configure time.
#   cmake -DPROGRAM=test_onnx "-DPACKAGES=libonnx-dev libprotobuf-dev" -P missing_dependency.cmake
message(FATAL_ERROR "${PROGRAM} was not built: ${PACKAGES} not found when CMake configured the build. "
                    "Install them (scripts/install-deps.sh, or apt-get install -y ${PACKAGES}) and configure again.")
