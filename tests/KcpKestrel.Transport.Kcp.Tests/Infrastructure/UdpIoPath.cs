using KcpKestrel.Transport.Kcp.Io.Datagrams;
using Xunit.Abstractions;

namespace KcpKestrel.Transport.Kcp.Tests.Infrastructure;

/// <summary>
/// The UDP I/O path a test runs on, named for theory data: "native" (epoll, batched syscalls, GSO/GRO),
/// "iouring" (io_uring, GSO/GRO) or "socket" (the portable <see cref="System.Net.Sockets.Socket"/> fallback).
/// Where the kernel refuses io_uring, "iouring" runs on the path the transport falls back to (epoll),
/// and <see cref="IoUringFallback"/> says why.
/// </summary>
internal static class UdpIoPath
{
    public const string Native = "native";
    public const string IoUring = "iouring";
    public const string Socket = "socket";

    /// <summary>Why "iouring" tests run on epoll here; null when they run on io_uring.</summary>
    public static string? IoUringFallback => UdpIo.IoUringWhyNot;

    /// <summary>
    /// True (after printing a SKIPPED line with the reason) when <paramref name="path"/> is "iouring" and the kernel refuses
    /// it: for tests about that path itself, where running on the fallback would test the wrong thing twice.
    /// </summary>
    public static bool Unavailable(string path, ITestOutputHelper output)
    {
        if (path != IoUring || IoUringFallback is not { } why)
        {
            return false;
        }

        output.WriteLine($"SKIPPED: io_uring is not usable here: {why}");
        return true;
    }

    /// <summary>The mode a transport forced to <paramref name="path"/> ends up with on this machine.</summary>
    public static UdpIoMode Mode(string path) => UdpIo.Resolve(Requested(path));

    /// <summary>The name a listener forced to <paramref name="path"/> reports.</summary>
    public static string Name(string path) => UdpIo.NameOf(Mode(path));

    /// <summary>Forces <paramref name="path"/> on <paramref name="options"/>: the one place tests set the I/O switch.</summary>
    public static void Force(KcpOptions options, string path) => options.IoOverrides = options.IoOverrides with { Mode = Requested(path) };

    private static UdpIoMode Requested(string path) => path switch
    {
        Native => UdpIoMode.Native,
        IoUring => UdpIoMode.IoUring,
        _ => UdpIoMode.Socket,
    };
}
