using KcpKestrel.IoUring;

namespace KcpKestrel.Transport.Kcp.Io.Datagrams;

/// <summary>
/// Switches that force a UDP I/O path, for tests. They are not settings (no configuration key, no CLI
/// flag, not copied between endpoints by users), so they are kept apart from <see cref="KcpOptions"/>'
/// settings; operators use KCPKESTREL_UDP_GSO, KCPKESTREL_UDP_GRO and KCPKESTREL_UDP_IO instead.
/// Immutable, so options clones may share one.
/// </summary>
internal sealed record UdpIoOverrides
{
    /// <summary>No override: GSO and GRO where the kernel has them, the process-wide I/O path.</summary>
    public static UdpIoOverrides None { get; } = new();

    /// <summary>Use UDP GSO (UDP_SEGMENT) on Linux where the kernel has it.</summary>
    public bool Gso { get; init; } = true;

    /// <summary>Use UDP GRO (UDP_GRO) on Linux where the kernel has it.</summary>
    public bool Gro { get; init; } = true;

    /// <summary>Forces the native or the portable path; null: the process-wide choice of <see cref="UdpIo"/>.</summary>
    public UdpIoMode? Mode { get; init; }

    /// <summary>
    /// An errno (ENOMEM, EPERM) that registering an io_uring loop's buffer ring fails with, as it can
    /// after the start-up probe passed; 0: no fault. The loop must then fall back to epoll.
    /// </summary>
    public int IoUringRegisterFault { get; init; }

    /// <summary>
    /// An errno that registering an io_uring loop's 64 KiB GRO buffer ring fails with (it is registered
    /// when the first GRO socket joins the loop); 0: no fault. That socket must then receive without GRO.
    /// </summary>
    public int IoUringGroRegisterFault { get; init; }

    /// <summary>An io_uring loop's ring sizes; tests shrink them to fill the submission queue and overflow the completion queue. Null: the defaults.</summary>
    public IoUringRingOptions? IoUringRing { get; init; }
}
