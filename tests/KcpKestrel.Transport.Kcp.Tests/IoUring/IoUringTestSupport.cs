using KcpKestrel.IoUring;
using Xunit.Abstractions;

namespace KcpKestrel.Transport.Kcp.Tests.IoUring;

/// <summary>Whether io_uring runs here, and bounded waits for completions.</summary>
internal static class IoUringTestSupport
{
    private static readonly IoUringProbe Probe = IoUringProbe.Run();

    /// <summary>
    /// Why the ring tests cannot run on this machine (no io_uring, refused, too old), or null. xunit 2
    /// has no dynamic skip: a test that gets a reason reports it and returns.
    /// </summary>
    public static string? WhyNot { get; } = Probe.WhyNot(
        [IoUringOp.Nop, IoUringOp.RecvMsg, IoUringOp.SendMsg, IoUringOp.AsyncCancel, IoUringOp.Read],
        IoUringConstants.FeatNoDrop | IoUringConstants.FeatExtArg);

    public static bool Unavailable(ITestOutputHelper output)
    {
        if (WhyNot is null)
        {
            return false;
        }

        output.WriteLine($"SKIPPED: io_uring is not usable here: {WhyNot}");
        return true;
    }

    /// <summary>The next completion, waiting at most 5 s in total.</summary>
    public static IoUringCqe Next(IoUringRing ring)
    {
        var deadline = Environment.TickCount64 + 5000;
        while (true)
        {
            if (ring.TryReadCqe(out var cqe))
            {
                return cqe;
            }

            Assert.True(Environment.TickCount64 < deadline, "no completion within 5 s");
            _ = ring.SubmitAndWait(1, 100);
        }
    }

    public static int OpenDescriptors() => FileDescriptors.Count();
}
