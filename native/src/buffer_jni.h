// The backing array of a heap ByteBuffer, read through JNI for the masking binding
// (org.webpolicy.internal.nativelib.MaskingNative): Java gives no access to the array of a
// read-only buffer (array() throws), yet the codec hands the transport read-only views of the
// caller's arrays, and the masking kernel should read them in place instead of copying them
// first. JNI reads the JDK's own fields (hb and offset of java.nio.ByteBuffer, unchanged since
// Java 1.4); if a JDK lacks them, these return null and -1 and the caller masks in Java.
// Included only into the JNI code JavaCPP generates: the C API and its tests do not need a JVM.
#ifndef WEBPOLICY_BUFFER_JNI_H
#define WEBPOLICY_BUFFER_JNI_H

#include <jni.h>

namespace webpolicy_jni {

// A field of java.nio.ByteBuffer, or null (with no exception pending) when it does not exist.
inline jfieldID byte_buffer_field(JNIEnv* env, const char* name, const char* signature) {
    jclass byte_buffer = env->FindClass("java/nio/ByteBuffer");
    if (byte_buffer == nullptr) {
        env->ExceptionClear();
        return nullptr;
    }
    jfieldID id = env->GetFieldID(byte_buffer, name, signature);
    if (id == nullptr) env->ExceptionClear();
    env->DeleteLocalRef(byte_buffer);
    return id;
}

}  // namespace webpolicy_jni

// The array behind a heap ByteBuffer, read-only or not; null for a direct buffer, or when the
// field cannot be found.
static inline jbyteArray wp_jni_heap_array(JNIEnv* env, jclass, jobject buffer) {
    static const jfieldID hb = webpolicy_jni::byte_buffer_field(env, "hb", "[B");
    if (hb == nullptr || buffer == nullptr) return nullptr;
    return static_cast<jbyteArray>(env->GetObjectField(buffer, hb));
}

// Where index 0 of a heap ByteBuffer lies in its array (arrayOffset(), read-only or not); -1 when
// the field cannot be found.
static inline jint wp_jni_heap_array_offset(JNIEnv* env, jclass, jobject buffer) {
    static const jfieldID offset = webpolicy_jni::byte_buffer_field(env, "offset", "I");
    if (offset == nullptr || buffer == nullptr) return -1;
    return env->GetIntField(buffer, offset);
}

#endif
