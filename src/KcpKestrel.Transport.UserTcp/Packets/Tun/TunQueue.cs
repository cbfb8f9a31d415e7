using System.Runtime.InteropServices;

namespace KcpKestrel.Transport.UserTcp.Packets.Tun;

/// <summary>
/// One queue of a TUN device: a non-blocking fd that reads and writes whole IP packets, and an eventfd so another
/// thread can end a <see cref="Wait"/>. Used by one loop thread; <see cref="Wake"/> from any. Give
/// <see cref="TryReceive"/> a buffer of at least the device's MTU: a longer packet is cut to the buffer (and then
/// dropped as truncated by the dispatcher).
/// </summary>
internal sealed unsafe class TunQueue : IPacketQueue
{
    private readonly int _fd;
    private readonly int _eventFd;
    private int _disposed;

    // Wake calls in progress: Dispose waits for them before closing the eventfd, so a Wake racing a Dispose never
    // writes to a closed descriptor whose number the process may already have reused.
    private int _wakers;

    internal TunQueue(int fd, int eventFd, int index)
    {
        _fd = fd;
        _eventFd = eventFd;
        Index = index;
    }

    /// <summary>This queue's index in its device.</summary>
    public int Index { get; }

    /// <summary>Packets <see cref="Send"/> dropped because the device would not take them (EAGAIN/ENOBUFS).</summary>
    public long SendDropped;

    /// <summary>Packets <see cref="Send"/> failed on for another reason (errno in <see cref="LastError"/>).</summary>
    public long SendErrors;

    /// <summary>Reads that failed with something other than EAGAIN (errno in <see cref="LastError"/>).</summary>
    public long ReceiveErrors;

    /// <summary>The last unexpected errno of a read or write, for diagnostics.</summary>
    public int LastError;

    /// <summary>
    /// The loop's packet counters, if it wants this queue's send drops in <see cref="PacketCounters.OutDropped"/>
    /// too (the writer cannot see them: <see cref="IPacketQueue.Send"/> returns nothing).
    /// </summary>
    public PacketCounters? Counters { get; set; }

    /// <inheritdoc />
    public bool Wait(int timeoutMs)
    {
        if (Volatile.Read(ref _disposed) != 0)
        {
            return false;
        }

        var fds = stackalloc TunNative.PollFd[2];
        fds[0] = new TunNative.PollFd { Fd = _fd, Events = TunNative.POLLIN };
        fds[1] = new TunNative.PollFd { Fd = _eventFd, Events = TunNative.POLLIN };
        int n = TunNative.Poll(fds, 2, timeoutMs);
        if (n < 0)
        {
            // EINTR: a signal. Report "maybe readable": the loop reads, finds nothing, and waits again.
            return true;
        }

        if ((fds[1].Revents & TunNative.POLLIN) != 0)
        {
            ulong value;
            _ = TunNative.Read(_eventFd, &value, sizeof(ulong));
            return true;
        }

        return n > 0;
    }

    /// <inheritdoc />
    public void Wake()
    {
        Interlocked.Increment(ref _wakers);
        try
        {
            if (Volatile.Read(ref _disposed) == 0)
            {
                ulong one = 1;
                _ = TunNative.Write(_eventFd, &one, sizeof(ulong));
            }
        }
        finally
        {
            Interlocked.Decrement(ref _wakers);
        }
    }

    /// <inheritdoc />
    public int TryReceive(Span<byte> buffer)
    {
        fixed (byte* p = buffer)
        {
            nint n = TunNative.Read(_fd, p, buffer.Length);
            if (n >= 0)
            {
                return (int)n;
            }
        }

        int errno = Marshal.GetLastPInvokeError();
        if (errno != TunNative.EAGAIN && errno != TunNative.EINTR)
        {
            ReceiveErrors++;
            LastError = errno;
        }

        return 0;
    }

    /// <inheritdoc />
    public void Send(ReadOnlySpan<byte> packet)
    {
        fixed (byte* p = packet)
        {
            if (TunNative.Write(_fd, p, packet.Length) >= 0)
            {
                return;
            }
        }

        int errno = Marshal.GetLastPInvokeError();
        if (errno == TunNative.EAGAIN || errno == TunNative.ENOBUFS)
        {
            SendDropped++;
            if (Counters is { } counters)
            {
                counters.OutDropped++;
            }
        }
        else
        {
            SendErrors++;
            LastError = errno;
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        // Wake a waiting loop first, so it sees the queue closing rather than polling a closed fd. The loop should
        // have stopped using the queue before it is disposed: a read racing the close could hit a reused fd number.
        ulong one = 1;
        _ = TunNative.Write(_eventFd, &one, sizeof(ulong));
        var spin = default(SpinWait);
        while (Volatile.Read(ref _wakers) != 0)
        {
            spin.SpinOnce();
        }

        _ = TunNative.Close(_fd);
        _ = TunNative.Close(_eventFd);
    }
}
