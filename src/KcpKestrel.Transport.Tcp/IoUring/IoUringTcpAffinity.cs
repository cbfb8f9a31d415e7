using System.Runtime.InteropServices;

namespace KcpKestrel.Transport.Tcp.IoUring;

/// <summary>
/// Which CPU each worker runs on when <see cref="TunedTcpOptions.CpuAffinity"/> is set: the choice is pure
/// (<see cref="CpuForWorker"/>, <see cref="CpusFromMask"/>); reading the allowed set and pinning a thread are the
/// two system calls around it.
/// </summary>
internal static unsafe partial class IoUringTcpAffinity
{
    // cpu_set_t of glibc: 1024 CPUs. The kernel takes any multiple of sizeof(long) at least its nr_cpu_ids bits.
    private const int MaskBytes = 1024 / 8;

    /// <summary>
    /// The CPU for worker <paramref name="worker"/> of <paramref name="workers"/> out of the process's
    /// <paramref name="allowed"/> CPUs (ascending). With <paramref name="steered"/> (a reuseport CBPF program that
    /// returns <c>cpu % workers</c>), worker <c>i</c>'s socket takes the connections of CPUs with <c>cpu % workers == i</c>,
    /// so the first allowed such CPU is chosen; otherwise, or when none is allowed, the <c>i</c>-th allowed CPU
    /// (wrapping). -1 when nothing is allowed.
    /// </summary>
    internal static int CpuForWorker(int worker, int workers, ReadOnlySpan<int> allowed, bool steered)
    {
        if (allowed.IsEmpty)
        {
            return -1;
        }

        if (steered)
        {
            foreach (var cpu in allowed)
            {
                if (cpu % workers == worker)
                {
                    return cpu;
                }
            }
        }

        return allowed[worker % allowed.Length];
    }

    /// <summary>The CPUs set in a cpu_set_t bit mask, ascending.</summary>
    internal static int[] CpusFromMask(ReadOnlySpan<byte> mask)
    {
        var cpus = new List<int>();
        for (var i = 0; i < mask.Length * 8; i++)
        {
            if ((mask[i >> 3] & (1 << (i & 7))) != 0)
            {
                cpus.Add(i);
            }
        }

        return [.. cpus];
    }

    /// <summary>The CPUs this process may run on (sched_getaffinity); empty when the call fails.</summary>
    internal static int[] AllowedCpus()
    {
        var mask = stackalloc byte[MaskBytes];
        return sched_getaffinity(0, MaskBytes, mask) < 0 ? [] : CpusFromMask(new ReadOnlySpan<byte>(mask, MaskBytes));
    }

    /// <summary>Pins the calling thread to <paramref name="cpu"/>; returns 0 or the errno.</summary>
    internal static int PinCurrentThread(int cpu)
    {
        if (cpu < 0 || cpu >= MaskBytes * 8)
        {
            return IoUringTcpNative.EINVAL;
        }

        var mask = stackalloc byte[MaskBytes];
        new Span<byte>(mask, MaskBytes).Clear();
        mask[cpu >> 3] = (byte)(1 << (cpu & 7));

        // pid 0 is the calling thread (a task), not the whole process.
        return sched_setaffinity(0, MaskBytes, mask) < 0 ? Marshal.GetLastPInvokeError() : 0;
    }

    [LibraryImport("libc", SetLastError = true)]
    private static partial int sched_getaffinity(int pid, nuint size, byte* mask);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int sched_setaffinity(int pid, nuint size, byte* mask);
}
