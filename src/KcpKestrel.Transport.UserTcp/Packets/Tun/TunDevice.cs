using System.Runtime.InteropServices;
using System.Text;

namespace KcpKestrel.Transport.UserTcp.Packets.Tun;

/// <summary>
/// A Linux TUN device (<c>IFF_TUN | IFF_NO_PI</c>: whole IP packets, no extra header) as a packet source; with more
/// than one queue it is multiqueue (<c>IFF_MULTI_QUEUE</c>), one fd per queue, and the kernel spreads flows over
/// them by hash. The device is created in the network namespace of the calling thread and disappears when its last
/// queue is closed. The device is the kernel's side of the link: configure it (<see cref="TunConfiguration"/>)
/// with the peer address, not the stack's own.
/// </summary>
internal sealed unsafe class TunDevice : IPacketSource
{
    /// <summary>The TUN clone device.</summary>
    public const string DefaultPath = "/dev/net/tun";

    private readonly TunQueue?[] _queues;
    private readonly bool[] _opened;

    private TunDevice(string name, int mtu, TunQueue[] queues)
    {
        Name = name;
        Mtu = mtu;
        _queues = queues;
        _opened = new bool[queues.Length];
    }

    /// <summary>The interface's name as the kernel gave it (a <c>%d</c> in the requested name is filled in).</summary>
    public string Name { get; }

    /// <inheritdoc />
    public int Mtu { get; }

    /// <inheritdoc />
    public int QueueCount => _queues.Length;

    /// <summary>Packets dropped on send over all queues (EAGAIN/ENOBUFS).</summary>
    public long SendDropped
    {
        get
        {
            long total = 0;
            foreach (var queue in _queues)
            {
                total += queue?.SendDropped ?? 0;
            }

            return total;
        }
    }

    /// <summary>
    /// Creates (or attaches to) TUN interface <paramref name="name"/> with <paramref name="queueCount"/> queues.
    /// <paramref name="mtu"/> is the largest packet the queues will carry (set the interface's MTU to match with
    /// <see cref="TunConfiguration.SetMtu"/>). Throws <see cref="TunUnavailableException"/> without root or
    /// CAP_NET_ADMIN or without <c>/dev/net/tun</c>, <see cref="IOException"/> for other failures.
    /// </summary>
    public static TunDevice Open(string name, int queueCount = 1, int mtu = 1500, string path = DefaultPath)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        if (Encoding.UTF8.GetByteCount(name) >= TunNative.IfNameSize)
        {
            throw new ArgumentException($"An interface name holds at most {TunNative.IfNameSize - 1} bytes: '{name}'.", nameof(name));
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(queueCount, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(mtu, 576);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(mtu, 65535);
        if (!OperatingSystem.IsLinux())
        {
            throw new TunUnavailableException("TUN devices are Linux only.");
        }

        if (!File.Exists(path))
        {
            throw new TunUnavailableException(
                $"{path} is missing: load the tun module (modprobe tun) or, in a container, pass the device in (--device /dev/net/tun)")
            { ErrorCode = TunNative.ENOENT };
        }

        var queues = new TunQueue[queueCount];
        string actualName = name;
        int created = 0;
        try
        {
            for (; created < queueCount; created++)
            {
                queues[created] = OpenQueue(path, actualName, queueCount > 1, created, out actualName);
            }
        }
        catch
        {
            for (int i = 0; i < created; i++)
            {
                queues[i].Dispose();
            }

            throw;
        }

        return new TunDevice(actualName, mtu, queues);
    }

    /// <inheritdoc />
    public IPacketQueue OpenQueue(int index)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, _queues.Length);
        lock (_opened)
        {
            if (_opened[index])
            {
                throw new InvalidOperationException($"Queue {index} of {Name} is already open.");
            }

            _opened[index] = true;
        }

        return _queues[index] ?? throw new ObjectDisposedException(nameof(TunDevice));
    }

    /// <inheritdoc />
    public void Dispose()
    {
        for (int i = 0; i < _queues.Length; i++)
        {
            _queues[i]?.Dispose();
        }
    }

    private static TunQueue OpenQueue(string path, string name, bool multiQueue, int index, out string actualName)
    {
        int fd = TunNative.Open(path, TunNative.O_RDWR | TunNative.O_NONBLOCK | TunNative.O_CLOEXEC);
        if (fd < 0)
        {
            throw Failure(Marshal.GetLastPInvokeError(), $"open {path}");
        }

        try
        {
            var request = default(TunNative.IfReq);
            WriteName(ref request, name);
            request.Flags = (short)(TunNative.IFF_TUN | TunNative.IFF_NO_PI | (multiQueue ? TunNative.IFF_MULTI_QUEUE : 0));
            if (TunNative.Ioctl(fd, TunNative.TUNSETIFF, &request) < 0)
            {
                int errno = Marshal.GetLastPInvokeError();
                throw errno == TunNative.EINVAL || errno == TunNative.EBUSY
                    ? new IOException($"TUNSETIFF {name} (queue {index}) failed (errno {errno}): the name is taken by another kind of interface, or by a TUN device opened without the same single/multiqueue flags.")
                    : Failure(errno, $"TUNSETIFF {name} (queue {index})");
            }

            actualName = ReadName(request);
            int eventFd = TunNative.EventFd(0, TunNative.EFD_NONBLOCK | TunNative.EFD_CLOEXEC);
            if (eventFd < 0)
            {
                throw Failure(Marshal.GetLastPInvokeError(), "eventfd");
            }

            return new TunQueue(fd, eventFd, index);
        }
        catch
        {
            _ = TunNative.Close(fd);
            throw;
        }
    }

    internal static Exception Failure(int errno, string what) =>
        (Exception?)TunUnavailableException.FromErrno(errno, what) ?? new IOException($"{what} failed: errno {errno} ({Marshal.GetPInvokeErrorMessage(errno)}).");

    internal static void WriteName(ref TunNative.IfReq request, string name)
    {
        fixed (byte* p = request.Name)
        {
            var span = new Span<byte>(p, TunNative.IfNameSize);
            span.Clear();
            Encoding.UTF8.GetBytes(name, span[..(TunNative.IfNameSize - 1)]);
        }
    }

    private static string ReadName(in TunNative.IfReq request)
    {
        fixed (byte* p = request.Name)
        {
            var span = new ReadOnlySpan<byte>(p, TunNative.IfNameSize);
            int end = span.IndexOf((byte)0);
            return Encoding.UTF8.GetString(end < 0 ? span : span[..end]);
        }
    }
}
