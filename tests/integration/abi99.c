/* A process that declares torvyn probe ABI version 99 (this torvyn-trace
 * speaks 1): `torvyn-trace attach` must refuse it with exit code 6, naming
 * both versions. Built and run by tests/integration/test_attach_errors.sh:
 *   cc -O2 -o abi99 tests/integration/abi99.c
 * The probe has no semaphore; it fires every 100 ms for at most a minute. */
#include <sys/sdt.h>
#include <time.h>

int main(void)
{
	const struct timespec tick = { 0, 100 * 1000 * 1000 };

	for (int i = 0; i < 600; i++) {
		DTRACE_PROBE1(torvyn, abi__version, 99ULL);
		nanosleep(&tick, NULL);
	}
	return 0;
}
