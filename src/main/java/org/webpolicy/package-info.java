/**
 * What every package shares: {@link org.webpolicy.WebPolicyException WebPolicyException}, the root of
 * the library's
 * own errors. The library itself is in the packages below this one: {@code array} and
 * {@code codec} (values and their wire encoding), {@code policy}, {@code transport} (server and
 * client), {@code broker}, {@code runtime} and {@code image}.
 */
package org.webpolicy;
