/** \file
 * Library and analyzer versions.
 *
 * SM_VERSION is the release of libsamplemind. SM_ANALYZER_VERSION changes whenever
 * a descriptor's definition changes, so catalogs know which files to re-analyze.
 */
#ifndef SAMPLEMIND_VERSION_H
#define SAMPLEMIND_VERSION_H

#define SM_VERSION_MAJOR 0
#define SM_VERSION_MINOR 1
#define SM_VERSION_PATCH 0
#define SM_VERSION_STRING "0.1.0"

/** Bumped when any descriptor's definition or the embedding layout changes. */
#define SM_ANALYZER_VERSION 2

#endif
