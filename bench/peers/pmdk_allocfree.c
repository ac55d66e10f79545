/*
 * PMDK peer for `npm run bench`: in a fresh pool of 1 GiB at PATH, times N
 * pmemobj_alloc of 4096-byte objects, then N pmemobj_free of them. Each call
 * is durable on return (run with PMEM_IS_PMEM_FORCE=1 on /dev/shm so that
 * flushes are cache-line flushes, as on real pmem). Prints one JSON line.
 *
 * usage: pmdk_allocfree PATH [N]
 */
#include <libpmemobj.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define POOL_BYTES ((size_t)1 << 30)
#define OBJECT_BYTES 4096

static double now(void) {
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
	if (argc < 2 || argc > 3) {
		fprintf(stderr, "usage: %s PATH [N]\n", argv[0]);
		return 2;
	}
	long n = argc == 3 ? strtol(argv[2], NULL, 10) : 100000;
	if (n <= 0) {
		fprintf(stderr, "N must be positive\n");
		return 2;
	}
	PMEMobjpool *pop = pmemobj_create(argv[1], "pmem-bench", POOL_BYTES, 0600);
	if (pop == NULL) {
		fprintf(stderr, "pmemobj_create %s: %s\n", argv[1], pmemobj_errormsg());
		return 1;
	}
	/* The handles stay in DRAM: the timed work is the allocator's own. */
	PMEMoid *oids = calloc((size_t)n, sizeof(PMEMoid));
	if (oids == NULL) {
		fprintf(stderr, "out of memory\n");
		return 1;
	}
	double t0 = now();
	for (long i = 0; i < n; i++) {
		if (pmemobj_alloc(pop, &oids[i], OBJECT_BYTES, 0, NULL, NULL) != 0) {
			fprintf(stderr, "pmemobj_alloc #%ld: %s\n", i, pmemobj_errormsg());
			return 1;
		}
	}
	double t1 = now();
	for (long i = 0; i < n; i++) pmemobj_free(&oids[i]);
	double t2 = now();
	printf("{\"n\":%ld,\"allocSeconds\":%.6f,\"freeSeconds\":%.6f}\n",
	       n, t1 - t0, t2 - t1);
	free(oids);
	pmemobj_close(pop);
	return 0;
}
