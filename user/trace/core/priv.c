// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "log.h"
#include "priv.h"

#ifndef CAP_PERFMON
#define CAP_PERFMON 38
#endif
#ifndef CAP_BPF
#define CAP_BPF 39
#endif

static const int session_caps[] = {CAP_BPF, CAP_PERFMON, CAP_SYS_PTRACE, CAP_DAC_READ_SEARCH};

uint64_t tvn_priv__session_caps(void)
{
	uint64_t m = 0;

	for (size_t i = 0; i < sizeof(session_caps) / sizeof(session_caps[0]); i++)
		m |= 1ull << session_caps[i];
	return m;
}

uint64_t tvn_priv__effective(void)
{
	struct __user_cap_header_struct hdr = {.version = _LINUX_CAPABILITY_VERSION_3};
	struct __user_cap_data_struct d[2];

	if (syscall(SYS_capget, &hdr, d))
		return 0;
	return (uint64_t)d[1].effective << 32 | d[0].effective;
}

int tvn_priv__drop(uint64_t extra)
{
	struct __user_cap_header_struct hdr = {.version = _LINUX_CAPABILITY_VERSION_3};
	struct __user_cap_data_struct d[2];
	uint64_t keep = tvn_priv__session_caps() | extra, eff, prm;

	if (syscall(SYS_capget, &hdr, d))
		return -errno;
	eff = ((uint64_t)d[1].effective << 32 | d[0].effective) & keep;
	prm = ((uint64_t)d[1].permitted << 32 | d[0].permitted) & keep;
	/* the bounding set first: dropping it needs CAP_SETPCAP, still held */
	for (int cap = 0; cap < 64; cap++) {
		if (!(keep & (1ull << cap)) && prctl(PR_CAPBSET_READ, cap, 0, 0, 0) == 1)
			prctl(PR_CAPBSET_DROP, cap, 0, 0, 0);
	}
	d[0].effective = (uint32_t)eff;
	d[1].effective = (uint32_t)(eff >> 32);
	d[0].permitted = (uint32_t)prm;
	d[1].permitted = (uint32_t)(prm >> 32);
	d[0].inheritable = d[1].inheritable = 0;
	return syscall(SYS_capset, &hdr, d) ? -errno : 0;
}

void tvn_priv__drop_for(const char *listen, bool writes_files)
{
	const char *colon = strrchr(listen, ':');
	int port = colon ? atoi(colon + 1) : 0, rc;
	uint64_t extra = 0;

	/* a privileged port is bound by the HTTP server, after this */
	if (port > 0 && port < 1024)
		extra |= 1ull << CAP_NET_BIND_SERVICE;
	/* files written later may be in directories root owns only by capability */
	if (writes_files)
		extra |= 1ull << CAP_DAC_OVERRIDE;
	rc = tvn_priv__drop(extra);
	if (rc)
		pr_warn("could not drop capabilities: %s\n", strerror(-rc));
}
