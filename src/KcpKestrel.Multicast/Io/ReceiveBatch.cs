using System.Net.Sockets;
using System.Runtime.InteropServices;
using KcpKestrel.Native;

namespace KcpKestrel.Multicast.Io;

/// <summary>
/// The receive thread's datagram slots, in native memory allocated once: on Linux one recvmmsg call
/// fills as many as are queued (one system call per batch instead of per datagram); elsewhere one
/// <see cref="Socket.Receive(Span{byte})"/> fills the first. Each slot holds one byte more than the
/// size it is made for, so a longer datagram shows as too long and is dropped instead of being cut.
/// </summary>
internal sealed unsafe partial class ReceiveBatch : IDisposable
{
    private const int MsgDontWait = 0x40;
    private const int MsgWaitForOne = 0x10000;
    private const int EINTR = 4;

    private readonly Socket _socket;
    private readonly int _slotSize;
    private readonly byte* _buffers;
    private readonly IoVec* _iovecs;
    private readonly MMsgHdr* _headers;
    private readonly bool _native = OperatingSystem.IsLinux();
    private int _fallbackLength;
    private bool _disposed;

    public ReceiveBatch(Socket socket, int capacity, int datagramSize)
    {
        _socket = socket;
        Capacity = capacity;
        _slotSize = datagramSize + 1;
        _buffers = (byte*)NativeMemory.AlignedAlloc((nuint)(capacity * _slotSize), 64);
        _iovecs = (IoVec*)NativeMemory.AllocZeroed((nuint)(capacity * sizeof(IoVec)));
        _headers = (MMsgHdr*)NativeMemory.AllocZeroed((nuint)(capacity * sizeof(MMsgHdr)));
        for (var i = 0; i < capacity; i++)
        {
            _iovecs[i].Base = _buffers + ((nint)i * _slotSize);
            _iovecs[i].Length = (nuint)_slotSize;
            _headers[i].Header.Iov = &_iovecs[i];
            _headers[i].Header.IovLength = 1;
        }
    }

    public int Capacity { get; }

    /// <summary>
    /// Fills slots with the datagrams queued on the socket; with <paramref name="wait"/> it blocks for
    /// the first (until one arrives or the socket is shut down). Returns how many (0: none, or an error
    /// such as an ICMP report, whose datagram NAKs repair).
    /// </summary>
    public int Receive(bool wait)
    {
        if (!_native)
        {
            return ReceiveOne(wait);
        }

        // The socket's handle stays valid: the receive thread holds a reference on it (see MulticastTransport).
        var fd = (int)_socket.SafeHandle.DangerousGetHandle();
        while (true)
        {
            for (var i = 0; i < Capacity; i++)
            {
                _headers[i].Header.Flags = 0;
            }

            var count = RecvMmsg(fd, _headers, (uint)Capacity, wait ? MsgWaitForOne : MsgDontWait, null);
            if (count >= 0)
            {
                return count;
            }

            if (Marshal.GetLastPInvokeError() != EINTR)
            {
                return 0;
            }
        }
    }

    /// <summary>
    /// Received datagram <paramref name="index"/>; empty when it was longer than the datagram size.
    /// Writable: the packet cipher opens it in place, until the next <see cref="Receive"/>.
    /// </summary>
    public Span<byte> Datagram(int index)
    {
        var length = _native ? (int)_headers[index].Length : _fallbackLength;
        return length >= _slotSize ? default : new Span<byte>(_buffers + ((nint)index * _slotSize), length);
    }

    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        NativeMemory.AlignedFree(_buffers);
        NativeMemory.Free(_iovecs);
        NativeMemory.Free(_headers);
    }

    [LibraryImport("libc", EntryPoint = "recvmmsg", SetLastError = true)]
    private static partial int RecvMmsg(int fd, MMsgHdr* messages, uint count, int flags, void* timeout);

    private int ReceiveOne(bool wait)
    {
        try
        {
            if (!wait && _socket.Available == 0)
            {
                return 0;
            }

            _fallbackLength = _socket.Receive(new Span<byte>(_buffers, _slotSize), SocketFlags.None);
            return 1;
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.MessageSize)
        {
            _fallbackLength = _slotSize;
            return 1;
        }
        catch (SocketException)
        {
            return 0;
        }
    }

    /// <summary>Linux <c>struct mmsghdr</c>.</summary>
    [StructLayout(LayoutKind.Sequential)]
    private struct MMsgHdr
    {
        public MsgHdr Header;
        public uint Length;
    }
}
