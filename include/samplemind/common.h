/** \file
 * Macros shared by every public header: symbol visibility and attributes.
 */
#ifndef SAMPLEMIND_COMMON_H
#define SAMPLEMIND_COMMON_H

#if defined(SM_BUILDING_LIBRARY) && defined(__GNUC__)
#define SM_API __attribute__((visibility("default")))
#else
#define SM_API
#endif

#if defined(__GNUC__)
#define SM_PRINTF(fmt, args) __attribute__((format(printf, fmt, args)))
#else
#define SM_PRINTF(fmt, args)
#endif

#endif
