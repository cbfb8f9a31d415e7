using KcpKestrel.Transport.UserTcp.Packets.Tun;

namespace KcpKestrel.Transport.UserTcp;

/// <summary>
/// A TUN device could not be created or configured because this process or machine cannot: no root or
/// CAP_NET_ADMIN, or no <c>/dev/net/tun</c>. The message says which.
/// </summary>
public sealed class TunUnavailableException : Exception
{
    /// <summary>A TUN device is unavailable, for no stated reason.</summary>
    public TunUnavailableException()
        : this("A TUN device is unavailable.")
    {
    }

    /// <summary>A TUN device is unavailable, for the reason <paramref name="message"/> states.</summary>
    public TunUnavailableException(string message)
        : base(message)
    {
    }

    /// <summary>A TUN device is unavailable, for the reason <paramref name="message"/> states, caused by <paramref name="innerException"/>.</summary>
    public TunUnavailableException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>The errno the failing call returned (0 when not from a call).</summary>
    public int ErrorCode { get; init; }

    /// <summary>The exception for a failed call, or null when <paramref name="errno"/> is not about availability.</summary>
    internal static TunUnavailableException? FromErrno(int errno, string what) => errno switch
    {
        TunNative.EPERM or TunNative.EACCES => new TunUnavailableException(
            $"{what}: permission denied (errno {errno}); creating a TUN device needs root or CAP_NET_ADMIN") { ErrorCode = errno },
        TunNative.ENOENT or TunNative.ENODEV or TunNative.ENXIO => new TunUnavailableException(
            $"{what}: /dev/net/tun is missing (errno {errno}); load the tun module (modprobe tun) or, in a container, pass the device in (--device /dev/net/tun)") { ErrorCode = errno },
        _ => null,
    };
}
