# FindOpenCVPreset: OpenCV core + imgproc from the org.bytedeco opencv linux-x86_64 jar (and the
# OpenBLAS jar its core library needs at run time), the same natives the Java side loads.
#
# Inputs (cache variables or environment variables of the same name):
#   OPENCV_PRESET_JAR    the opencv-<v>-linux-x86_64.jar (default: in ~/.m2, version OPENCV_PRESET_VERSION)
#   OPENBLAS_PRESET_JAR  the openblas-<v>-linux-x86_64.jar (default: in ~/.m2, version OPENBLAS_PRESET_VERSION)
#   OPENCV_PRESET_DIR    an already extracted copy of the opencv jar (skips extraction)
# The jars are zip files: they are extracted into the build tree once.
#
# Outputs: OpenCVPreset_FOUND, OpenCVPreset_INCLUDE_DIR, OpenCVPreset_LIBRARY_DIRS and the
# imported targets OpenCVPreset::core and OpenCVPreset::imgproc. The preset ships only versioned
# libraries (libopencv_core.so.413), so the targets point at those files directly.

set(OPENCV_PRESET_VERSION "4.13.0-1.5.13" CACHE STRING "org.bytedeco:opencv version")
set(OPENBLAS_PRESET_VERSION "0.3.31-1.5.13" CACHE STRING "org.bytedeco:openblas version")
set(OPENCV_PRESET_SOVERSION "413" CACHE STRING "Suffix of the OpenCV shared libraries in the preset")

set(_m2 "$ENV{HOME}/.m2/repository/org/bytedeco")
foreach(_var OPENCV_PRESET_JAR OPENBLAS_PRESET_JAR OPENCV_PRESET_DIR)
  if(NOT ${_var} AND DEFINED ENV{${_var}})
    set(${_var} "$ENV{${_var}}")
  endif()
endforeach()
if(NOT OPENCV_PRESET_JAR)
  set(OPENCV_PRESET_JAR "${_m2}/opencv/${OPENCV_PRESET_VERSION}/opencv-${OPENCV_PRESET_VERSION}-linux-x86_64.jar")
endif()
if(NOT OPENBLAS_PRESET_JAR)
  set(OPENBLAS_PRESET_JAR "${_m2}/openblas/${OPENBLAS_PRESET_VERSION}/openblas-${OPENBLAS_PRESET_VERSION}-linux-x86_64.jar")
endif()

function(_opencv_preset_extract jar dest)
  if(NOT EXISTS "${dest}/.extracted")
    if(NOT EXISTS "${jar}")
      return()
    endif()
    file(MAKE_DIRECTORY "${dest}")
    execute_process(COMMAND ${CMAKE_COMMAND} -E tar xf "${jar}"
                    WORKING_DIRECTORY "${dest}" RESULT_VARIABLE _rc)
    if(NOT _rc EQUAL 0)
      message(FATAL_ERROR "Could not extract ${jar}")
    endif()
    file(WRITE "${dest}/.extracted" "${jar}\n")
  endif()
endfunction()

if(NOT OPENCV_PRESET_DIR)
  set(OPENCV_PRESET_DIR "${CMAKE_BINARY_DIR}/opencv-preset")
  _opencv_preset_extract("${OPENCV_PRESET_JAR}" "${OPENCV_PRESET_DIR}")
endif()
set(_openblas_dir "${CMAKE_BINARY_DIR}/openblas-preset")
_opencv_preset_extract("${OPENBLAS_PRESET_JAR}" "${_openblas_dir}")

set(_ocv_root "${OPENCV_PRESET_DIR}/org/bytedeco/opencv/linux-x86_64")
find_path(OpenCVPreset_INCLUDE_DIR opencv2/imgproc.hpp PATHS "${_ocv_root}/include" NO_DEFAULT_PATH)
find_file(OpenCVPreset_CORE_LIBRARY "libopencv_core.so.${OPENCV_PRESET_SOVERSION}" PATHS "${_ocv_root}" NO_DEFAULT_PATH)
find_file(OpenCVPreset_IMGPROC_LIBRARY "libopencv_imgproc.so.${OPENCV_PRESET_SOVERSION}" PATHS "${_ocv_root}" NO_DEFAULT_PATH)
find_file(OpenCVPreset_OPENBLAS_LIBRARY "libopenblas.so.0" PATHS "${_openblas_dir}/org/bytedeco/openblas/linux-x86_64" NO_DEFAULT_PATH)

include(FindPackageHandleStandardArgs)
find_package_handle_standard_args(OpenCVPreset
  REQUIRED_VARS OpenCVPreset_INCLUDE_DIR OpenCVPreset_CORE_LIBRARY OpenCVPreset_IMGPROC_LIBRARY OpenCVPreset_OPENBLAS_LIBRARY
  REASON_FAILURE_MESSAGE "run 'mvn -q dependency:resolve' first (or set OPENCV_PRESET_JAR / OPENBLAS_PRESET_JAR)")

if(OpenCVPreset_FOUND)
  get_filename_component(_ocv_libdir "${OpenCVPreset_CORE_LIBRARY}" DIRECTORY)
  get_filename_component(_blas_libdir "${OpenCVPreset_OPENBLAS_LIBRARY}" DIRECTORY)
  set(OpenCVPreset_LIBRARY_DIRS "${_ocv_libdir}" "${_blas_libdir}")
  if(NOT TARGET OpenCVPreset::core)
    add_library(OpenCVPreset::openblas SHARED IMPORTED)
    set_target_properties(OpenCVPreset::openblas PROPERTIES IMPORTED_LOCATION "${OpenCVPreset_OPENBLAS_LIBRARY}"
                          IMPORTED_NO_SONAME FALSE)
    add_library(OpenCVPreset::core SHARED IMPORTED)
    set_target_properties(OpenCVPreset::core PROPERTIES
      IMPORTED_LOCATION "${OpenCVPreset_CORE_LIBRARY}"
      INTERFACE_INCLUDE_DIRECTORIES "${OpenCVPreset_INCLUDE_DIR}"
      INTERFACE_LINK_LIBRARIES OpenCVPreset::openblas)
    add_library(OpenCVPreset::imgproc SHARED IMPORTED)
    set_target_properties(OpenCVPreset::imgproc PROPERTIES
      IMPORTED_LOCATION "${OpenCVPreset_IMGPROC_LIBRARY}"
      INTERFACE_LINK_LIBRARIES OpenCVPreset::core)
  endif()
endif()
mark_as_advanced(OpenCVPreset_INCLUDE_DIR OpenCVPreset_CORE_LIBRARY OpenCVPreset_IMGPROC_LIBRARY
                 OpenCVPreset_OPENBLAS_LIBRARY)
