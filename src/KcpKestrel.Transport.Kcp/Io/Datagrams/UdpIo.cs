using System.Net.Sockets;
using System.Runtime.InteropServices;
using KcpKestrel.IoUring;
using KcpKestrel.Transport.Kcp.Io.Native;

namespace KcpKestrel.Transport.Kcp.Io.Datagrams;

/// <summary>
/// Chooses, once per process, how the I/O loops move datagrams: the native Linux calls (epoll and
/// recvmmsg/sendmmsg) when they are there and work, io_uring when asked for and the kernel has what
/// it needs, the portable Socket path otherwise (other OSes, kernels or sandboxes without the native
/// calls). <c>KCPKESTREL_UDP_IO=iouring|epoll|socket</c> (or the CLI's <c>--udp-io</c>) asks for one;
/// <c>native</c> is kept as another name for <c>epoll</c>.
/// </summary>
internal static class UdpIo
{
    /// <summary>Names a path: <c>iouring</c>, <c>epoll</c> (or <c>native</c>) or <c>socket</c>.</summary>
    public const string EnvironmentVariable = "KCPKESTREL_UDP_IO";

    /// <summary>The names <see cref="Parse"/> accepts, for usage text.</summary>
    public static readonly string[] Names = ["iouring", "epoll", "native", "socket"];

    /// <summary>The io_uring opcodes and features the io_uring loops use.</summary>
    private static readonly IoUringOp[] IoUringOps = [IoUringOp.RecvMsg, IoUringOp.SendMsg, IoUringOp.Read, IoUringOp.AsyncCancel];

    private static readonly Lazy<string?> IoUringAnswer = new(ProbeIoUring);

    /// <summary>Whether the native calls answered the start-up probe on this machine.</summary>
    public static bool NativeWorks { get; } = ProbeNative();

    /// <summary>Why the io_uring loops cannot run here (probed on first use), or null when they can.</summary>
    public static string? IoUringWhyNot => IoUringAnswer.Value;

    /// <summary>The mode loops use unless their options say otherwise.</summary>
    public static UdpIoMode DefaultMode { get; } = ChooseDefault();

    /// <summary>Set when the process default is not what <see cref="EnvironmentVariable"/> asked for: the one line saying why.</summary>
    public static string? FallbackReason { get; private set; }

    /// <summary>
    /// Whether several sockets can share a port with the kernel spreading peers across them
    /// (SO_REUSEPORT on Linux), so a listener can run several loops; elsewhere it runs one.
    /// </summary>
    public static bool SupportsReusePortBalancing => OperatingSystem.IsLinux();

    /// <summary>The mode a name asks for; null for no name; throws <see cref="ArgumentException"/> for an unknown one.</summary>
    public static UdpIoMode? Parse(string? name) => name?.Trim().ToLowerInvariant() switch
    {
        null or "" => null,
        "iouring" or "io_uring" or "io-uring" => UdpIoMode.IoUring,
        "epoll" or "native" => UdpIoMode.Native,
        "socket" => UdpIoMode.Socket,
        _ => throw new ArgumentException($"Unknown UDP I/O path '{name}'; accepted: iouring, epoll (or native), socket."),
    };

    /// <summary>The name of a mode, as logs and the health check show it.</summary>
    public static string NameOf(UdpIoMode mode) => mode switch
    {
        UdpIoMode.IoUring => "iouring",
        UdpIoMode.Native => "native",
        _ => "socket",
    };

    /// <summary>
    /// The mode for a setting of <see cref="EnvironmentVariable"/> and the probes' answers: the one asked
    /// for when it works, else the next best (epoll, then Socket). No name, or an unknown one, means epoll.
    /// </summary>
    /// <param name="setting">The variable's value.</param>
    /// <param name="nativeWorks">Whether the epoll path's calls work.</param>
    /// <param name="ioUringWhyNot">Why io_uring cannot run; null when it can.</param>
    public static UdpIoMode Choose(string? setting, bool nativeWorks, string? ioUringWhyNot = null) =>
        Fallback(TryParse(setting, out _) ?? UdpIoMode.Native, nativeWorks, ioUringWhyNot, out _);

    // Reads the io_uring probe only when io_uring is asked for, so other paths never pay for it.
    private static UdpIoMode ChooseDefault()
    {
        var asked = TryParse(Environment.GetEnvironmentVariable(EnvironmentVariable), out var parseError);
        var mode = Fallback(asked ?? UdpIoMode.Native, NativeWorks, asked == UdpIoMode.IoUring ? IoUringWhyNot : null, out var reason);
        FallbackReason = parseError ?? reason;
        return mode;
    }

    private static UdpIoMode? TryParse(string? setting, out string? error)
    {
        try
        {
            error = null;
            return Parse(setting);
        }
        catch (ArgumentException ex)
        {
            error = $"{EnvironmentVariable}: {ex.Message}";
            return null;
        }
    }

    /// <summary>The mode for options that may force one (tests, the CLI), else the process default; io_uring falls back when it cannot run.</summary>
    public static UdpIoMode Resolve(UdpIoMode? forced) => Resolve(forced, out _);

    /// <summary>As <see cref="Resolve(UdpIoMode?)"/>, with the reason when the forced mode was not possible.</summary>
    public static UdpIoMode Resolve(UdpIoMode? forced, out string? fallbackReason)
    {
        if (forced is not { } mode)
        {
            fallbackReason = FallbackReason;
            return DefaultMode;
        }

        return Fallback(mode, NativeWorks, mode == UdpIoMode.IoUring ? IoUringWhyNot : null, out fallbackReason);
    }

    private static UdpIoMode Fallback(UdpIoMode asked, bool nativeWorks, string? ioUringWhyNot, out string? reason)
    {
        reason = null;
        if (asked == UdpIoMode.IoUring)
        {
            if (ioUringWhyNot is null)
            {
                return UdpIoMode.IoUring;
            }

            reason = $"io_uring UDP I/O unavailable ({ioUringWhyNot}); using {(nativeWorks ? "epoll" : "socket")}";
            asked = UdpIoMode.Native;
        }

        if (asked == UdpIoMode.Native && !nativeWorks)
        {
            reason ??= "native UDP I/O (epoll, recvmmsg, sendmmsg) unavailable; using socket";
            return UdpIoMode.Socket;
        }

        return asked;
    }

    private static string? ProbeIoUring()
    {
        if (!NativeWorks)
        {
            return "the native Linux calls are missing";
        }

        var whyNot = IoUringProbe.Shared.WhyNot(IoUringOps, IoUringConstants.FeatNoDrop | IoUringConstants.FeatExtArg | IoUringConstants.FeatFastPoll);
        if (whyNot is not null)
        {
            return whyNot;
        }

        // The loops also need provided-buffer rings (Linux 5.19), which the opcode list does not show.
        try
        {
            using var ring = IoUringRing.Create(new IoUringRingOptions { Entries = 4 });
            using var buffers = ProvidedBufferRing.Register(ring, 0, 1, 64);
            return null;
        }
        catch (IoUringUnavailableException ex)
        {
            return ex.Message;
        }
    }

    // Each call the native path needs, once, on a throwaway socket: a kernel or seccomp filter
    // without them answers ENOSYS or EPERM (or the library lacks the symbol) instead of EAGAIN.
    private static unsafe bool ProbeNative()
    {
        if (!LinuxNative.IsSupported)
        {
            return false;
        }

        try
        {
            var epfd = LinuxNative.epoll_create1(LinuxNative.EPOLL_CLOEXEC);
            if (epfd < 0)
            {
                return false;
            }

            _ = LinuxNative.close(epfd);
            using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
            using var batch = new MessageBatch(1, 64);
            var fd = (int)socket.Handle;
            batch.PrepareReceive();
            if (LinuxNative.recvmmsg(fd, batch.Headers, 1, LinuxNative.MSG_DONTWAIT, null) >= 0
                || Marshal.GetLastPInvokeError() != LinuxNative.EAGAIN)
            {
                return false;
            }

            return LinuxNative.sendmmsg(fd, batch.Headers, 0, LinuxNative.MSG_DONTWAIT) == 0;
        }
        catch (Exception ex) when (ex is DllNotFoundException or EntryPointNotFoundException or SocketException)
        {
            return false;
        }
    }
}
