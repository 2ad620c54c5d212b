// LD_PRELOAD shim for the soak driver's "slow-disk" fault: fsync() and fdatasync() sleep for a delay
// read, at every call, from a small control file shared with the driver, then do the real sync.
//
//   gcc -shared -fPIC -O2 -o slow-fsync.so slow-fsync.c -ldl
//   SLOW_FSYNC_CONTROL=/tmp/x.ctl LD_PRELOAD=$PWD/slow-fsync.so node ...
//
// Control file layout (little-endian int64s, the file is at least 4096 bytes):
//   [0]  delay in microseconds, written by the driver (0 = no delay)
//   [8]  number of fsync/fdatasync calls seen (incremented by the shim)
//   [16] total microseconds slept (incremented by the shim)
// The driver changes the delay without restarting the server, and reads the counters to prove that
// the server's syncs actually go through the shim (libuv calls the libc fsync/fdatasync symbols).
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

struct control {
  int64_t delay_us;
  int64_t calls;
  int64_t slept_us;
};

static struct control *control;
static int (*real_fsync)(int);
static int (*real_fdatasync)(int);

__attribute__((constructor)) static void slow_fsync_init(void) {
  real_fsync = (int (*)(int))dlsym(RTLD_NEXT, "fsync");
  real_fdatasync = (int (*)(int))dlsym(RTLD_NEXT, "fdatasync");
  const char *path = getenv("SLOW_FSYNC_CONTROL");
  if (!path || !*path) return;
  int fd = open(path, O_RDWR | O_CLOEXEC);
  if (fd < 0) return;
  void *map = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  close(fd);
  if (map != MAP_FAILED) control = (struct control *)map;
}

static void slow_down(void) {
  if (!control) return;
  __atomic_fetch_add(&control->calls, 1, __ATOMIC_RELAXED);
  int64_t us = __atomic_load_n(&control->delay_us, __ATOMIC_RELAXED);
  if (us <= 0) return;
  struct timespec ts = {(time_t)(us / 1000000), (long)(us % 1000000) * 1000};
  while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
  }
  __atomic_fetch_add(&control->slept_us, us, __ATOMIC_RELAXED);
}

int fsync(int fd) {
  int rc = real_fsync(fd);
  int saved = errno; // the caller reads errno of the real call
  slow_down();
  errno = saved;
  return rc;
}

int fdatasync(int fd) {
  int rc = real_fdatasync(fd);
  int saved = errno; // the caller reads errno of the real call
  slow_down();
  errno = saved;
  return rc;
}
