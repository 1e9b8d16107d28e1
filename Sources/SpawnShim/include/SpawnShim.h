#ifndef SLUICE_SPAWN_SHIM_H
#define SLUICE_SPAWN_SHIM_H
#include <spawn.h>

/// glibc's posix_spawn_file_actions_addclosefrom_np (2.34+), which Swift's Glibc module does
/// not export: the child closes every descriptor from `from` up before it execs.
int sluice_spawn_closefrom(posix_spawn_file_actions_t *actions, int from);

#endif
