using KcpKestrel.Transport.Kcp.Io.Datagrams;

namespace KcpKestrel.Transport.Kcp.Tests.Infrastructure;

/// <summary>
/// The UDP I/O path a test runs on, named for theory data: "native" (epoll, batched syscalls, GSO/GRO)
/// or "socket" (the portable <see cref="System.Net.Sockets.Socket"/> fallback).
/// </summary>
internal static class UdpIoPath
{
    public const string Native = "native";
    public const string Socket = "socket";

    public static UdpIoMode Mode(string path) => path == Native ? UdpIoMode.Native : UdpIoMode.Socket;

    /// <summary>Forces <paramref name="path"/> on <paramref name="options"/>: the one place tests set the I/O switch.</summary>
    public static void Force(KcpOptions options, string path) => options.IoOverrides = options.IoOverrides with { Mode = Mode(path) };
}
