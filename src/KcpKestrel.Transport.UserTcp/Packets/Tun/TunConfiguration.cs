using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace KcpKestrel.Transport.UserTcp.Packets.Tun;

/// <summary>
/// Configures an interface the way <c>ip link/addr</c> would, with the classic ioctls on a datagram socket: MTU,
/// an IPv4 address and prefix (SIOCSIFADDR + SIOCSIFNETMASK), an IPv6 address and prefix (SIOCSIFADDR with
/// <c>struct in6_ifreq</c>), and the link up. It acts in the network namespace of the calling thread. Give the TUN
/// device the kernel's address (the peer's, e.g. 10.77.0.2/24): the kernel then routes the prefix, the stack's own
/// address included, into the device.
/// </summary>
internal static unsafe class TunConfiguration
{
    /// <summary>Sets the interface's MTU.</summary>
    public static void SetMtu(string name, int mtu)
    {
        var request = Request(name);
        request.Value = mtu;
        int fd = OpenSocket(TunNative.AF_INET);
        try
        {
            Ioctl(fd, TunNative.SIOCSIFMTU, &request, $"SIOCSIFMTU {name} {mtu}");
        }
        finally
        {
            _ = TunNative.Close(fd);
        }
    }

    /// <summary>Adds (sets) the interface's IPv4 address with a prefix of <paramref name="prefixLength"/> bits.</summary>
    public static void AddIPv4Address(string name, IPAddress address, int prefixLength)
    {
        ArgumentNullException.ThrowIfNull(address);
        if (address.AddressFamily != AddressFamily.InterNetwork)
        {
            throw new ArgumentException($"Not an IPv4 address: {address}.", nameof(address));
        }

        ArgumentOutOfRangeException.ThrowIfNegative(prefixLength);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(prefixLength, 32);
        int fd = OpenSocket(TunNative.AF_INET);
        try
        {
            var request = Request(name);
            request.Family = TunNative.AF_INET;
            address.TryWriteBytes(new Span<byte>(request.Address, 4), out _);
            Ioctl(fd, TunNative.SIOCSIFADDR, &request, $"SIOCSIFADDR {name} {address}");

            uint mask = prefixLength == 0 ? 0 : uint.MaxValue << (32 - prefixLength);
            request = Request(name);
            request.Family = TunNative.AF_INET;
            BinaryPrimitives.WriteUInt32BigEndian(new Span<byte>(request.Address, 4), mask);
            Ioctl(fd, TunNative.SIOCSIFNETMASK, &request, $"SIOCSIFNETMASK {name} /{prefixLength}");
        }
        finally
        {
            _ = TunNative.Close(fd);
        }
    }

    /// <summary>
    /// Adds an IPv6 address with a prefix of <paramref name="prefixLength"/> bits and waits (up to 2 s) until it is
    /// usable. Duplicate address detection is turned off on the interface first (best effort): nothing answers DAD
    /// on a TUN link. Even then the kernel adds the address as tentative and clears that from a work queue a moment
    /// later; a socket bound to it before then fails with EADDRNOTAVAIL, hence the wait.
    /// </summary>
    public static void AddIPv6Address(string name, IPAddress address, int prefixLength)
    {
        ArgumentNullException.ThrowIfNull(address);
        if (address.AddressFamily != AddressFamily.InterNetworkV6)
        {
            throw new ArgumentException($"Not an IPv6 address: {address}.", nameof(address));
        }

        ArgumentOutOfRangeException.ThrowIfNegative(prefixLength);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(prefixLength, 128);
        TryDisableDad(name);
        int fd = OpenSocket(TunNative.AF_INET6);
        try
        {
            var index = Request(name);
            Ioctl(fd, TunNative.SIOCGIFINDEX, &index, $"SIOCGIFINDEX {name}");
            var request = new TunNative.In6IfReq { PrefixLength = (uint)prefixLength, InterfaceIndex = index.Value };
            address.TryWriteBytes(new Span<byte>(request.Address, 16), out _);
            Ioctl(fd, TunNative.SIOCSIFADDR, &request, $"SIOCSIFADDR {name} {address}/{prefixLength}");
        }
        finally
        {
            _ = TunNative.Close(fd);
        }

        WaitUntilNotTentative(name, address, TimeSpan.FromSeconds(2));
    }

    /// <summary>Brings the interface up (IFF_UP), keeping its other flags.</summary>
    public static void SetUp(string name)
    {
        int fd = OpenSocket(TunNative.AF_INET);
        try
        {
            var request = Request(name);
            Ioctl(fd, TunNative.SIOCGIFFLAGS, &request, $"SIOCGIFFLAGS {name}");
            request.Flags |= TunNative.IFF_UP;
            Ioctl(fd, TunNative.SIOCSIFFLAGS, &request, $"SIOCSIFFLAGS {name} up");
        }
        finally
        {
            _ = TunNative.Close(fd);
        }
    }

    /// <summary>
    /// The usual set-up in one call: MTU, the kernel-side addresses given (either may be null), link up.
    /// </summary>
    public static void Configure(string name, int mtu, (IPAddress Address, int PrefixLength)? ipv4, (IPAddress Address, int PrefixLength)? ipv6)
    {
        SetMtu(name, mtu);
        if (ipv4 is { } v4)
        {
            AddIPv4Address(name, v4.Address, v4.PrefixLength);
        }

        SetUp(name);

        // After up: the kernel sets up IPv6 on an interface when it comes up, and SIOCSIFADDR may need that.
        if (ipv6 is { } v6)
        {
            AddIPv6Address(name, v6.Address, v6.PrefixLength);
        }
    }

    /// <summary>
    /// Polls the calling thread's namespace's address list (<c>/proc/thread-self/net/if_inet6</c>: /proc/self/net
    /// would be the process's namespace, not this thread's) until <paramref name="address"/> on
    /// <paramref name="name"/> has neither IFA_F_TENTATIVE nor IFA_F_DADFAILED.
    /// </summary>
    private static void WaitUntilNotTentative(string name, IPAddress address, TimeSpan limit)
    {
        const int Tentative = 0x40;
        const int DadFailed = 0x08;
        const string List = "/proc/thread-self/net/if_inet6";
        if (!File.Exists(List))
        {
            return;
        }

        string hex = Convert.ToHexStringLower(address.GetAddressBytes());
        long deadline = Environment.TickCount64 + (long)limit.TotalMilliseconds;
        while (true)
        {
            int? flags = null;
            foreach (var line in File.ReadLines(List))
            {
                // "fd000077000000000000000000000002 02 40 00 80   kktun0": address, index, prefix, scope, flags, name.
                var fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                if (fields.Length >= 6 && fields[0] == hex && fields[5] == name)
                {
                    flags = Convert.ToInt32(fields[4], 16);
                }
            }

            if (flags is { } f && (f & DadFailed) != 0)
            {
                throw new IOException($"{address} on {name}: duplicate address detection failed.");
            }

            if (flags is { } g && (g & Tentative) == 0)
            {
                return;
            }

            if (Environment.TickCount64 > deadline)
            {
                throw new IOException($"{address} on {name} is still {(flags is null ? "missing" : "tentative")} after {limit.TotalSeconds:0.#} s.");
            }

            Thread.Sleep(5);
        }
    }

    private static void TryDisableDad(string name)
    {
        try
        {
            File.WriteAllText($"/proc/sys/net/ipv6/conf/{name}/accept_dad", "0");
        }
        catch (IOException)
        {
            // No IPv6 sysctls (IPv6 disabled): the address add below says so if it matters.
        }
        catch (UnauthorizedAccessException)
        {
            // Not allowed: DAD then just delays the address by a second or so.
        }
    }

    private static TunNative.IfReq Request(string name)
    {
        var request = default(TunNative.IfReq);
        TunDevice.WriteName(ref request, name);
        return request;
    }

    private static void Ioctl(int fd, uint request, void* argument, string what)
    {
        if (TunNative.Ioctl(fd, request, argument) < 0)
        {
            throw TunDevice.Failure(Marshal.GetLastPInvokeError(), what);
        }
    }

    private static int OpenSocket(int family)
    {
        int fd = TunNative.Socket(family, TunNative.SOCK_DGRAM | TunNative.SOCK_CLOEXEC, 0);
        return fd >= 0 ? fd : throw TunDevice.Failure(Marshal.GetLastPInvokeError(), family == TunNative.AF_INET6 ? "socket(AF_INET6)" : "socket(AF_INET)");
    }
}
