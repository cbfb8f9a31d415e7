using KcpKestrel.IoUring;

namespace KcpKestrel.Transport.Tcp.IoUring;

/// <summary>Whether the io_uring TCP engine can run on this kernel.</summary>
internal static class IoUringTcpSupport
{
    private static readonly Lazy<string?> Reason = new(Probe);

    /// <summary>Why the engine cannot run here, or null when it can. Probed once per process.</summary>
    public static string? WhyNot() => Reason.Value;

    /// <summary>Whether the kernel has zero-copy sends (IORING_OP_SEND_ZC, 6.0; SENDMSG_ZC, 6.1).</summary>
    public static bool ZeroCopySend => IoUringProbe.Shared.Supports(IoUringOp.SendZc) && IoUringProbe.Shared.Supports(IoUringOp.SendMsgZc);

    private static string? Probe()
    {
        if (!OperatingSystem.IsLinux())
        {
            return "io_uring is Linux-only";
        }

        // Multishot receive into provided buffers arrived in Linux 6.0; the probe cannot see it, the version can.
        if (Environment.OSVersion.Version < new Version(6, 0))
        {
            return $"Linux {Environment.OSVersion.Version} predates multishot receive (6.0)";
        }

        return IoUringProbe.Shared.WhyNot(
            [IoUringOp.Accept, IoUringOp.Recv, IoUringOp.Send, IoUringOp.SendMsg, IoUringOp.Read, IoUringOp.AsyncCancel, IoUringOp.Timeout, IoUringOp.Close],
            IoUringConstants.FeatNoDrop | IoUringConstants.FeatFastPoll);
    }
}
