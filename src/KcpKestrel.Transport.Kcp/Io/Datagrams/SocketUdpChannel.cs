using System.Net;
using System.Net.Sockets;
using KcpKestrel.Transport.Kcp.Diagnostics;
using KcpKestrel.Transport.Kcp.Io.Native;

namespace KcpKestrel.Transport.Kcp.Io.Datagrams;

/// <summary>
/// One UDP socket on the portable path: a non-blocking <see cref="System.Net.Sockets.Socket"/> read
/// with ReceiveFrom (Receive when connected) and written with SendTo (Send when connected), through
/// reusable SocketAddress instances and managed buffers allocated once. Outgoing datagrams queue as
/// on the native path and leave at the end of the loop's turn, one call each.
/// </summary>
internal sealed class SocketUdpChannel : IDatagramChannel
{
    private const int Capacity = 64;
    private const int MaxSendWaits = 8;

    // As many as the native path's 16 rounds of 64: then the loop serves its other sockets.
    private const int MaxReceivesPerDrain = 1024;

    // WSAIoctl SIO_UDP_CONNRESET (Windows only).
    private const int SioUdpConnReset = unchecked((int)0x9800000C);

    private readonly KcpTransportCounters _counters;
    private readonly int _slotSize;
    private readonly byte[] _sendBuffer;
    private readonly int[] _sendLengths = new int[Capacity];
    private readonly byte[] _sendAddresses = new byte[Capacity * SockaddrLayout.IPv6Size];
    private readonly int[] _sendAddressLengths = new int[Capacity];
    private readonly SocketAddress _from;
    private readonly SocketAddress _toIPv4 = new(AddressFamily.InterNetwork);
    private readonly SocketAddress _toIPv6 = new(AddressFamily.InterNetworkV6);
    private readonly byte[] _fromSockaddr = new byte[SockaddrLayout.IPv6Size];
    private readonly byte[] _peer = new byte[SockaddrLayout.IPv6Size];
    private readonly int _peerLength;
    private readonly bool _connected;
    private int _count;
    private bool _disposed;

    public SocketUdpChannel(Socket socket, IDatagramReceiver receiver, KcpTransportCounters counters, int slotSize)
    {
        Socket = socket;
        Receiver = receiver;
        _counters = counters;
        _slotSize = slotSize;
        _sendBuffer = new byte[Capacity * slotSize];
        socket.Blocking = false;
        if (OperatingSystem.IsWindows())
        {
            // Otherwise one ICMP port-unreachable (a peer gone) fails the next ReceiveFrom on the
            // socket every peer of the listener shares.
            socket.IOControl(SioUdpConnReset, new byte[4], null);
        }

        _from = new SocketAddress(socket.AddressFamily);
        _connected = socket.Connected;
        if (_connected && socket.RemoteEndPoint is { } remote)
        {
            // Receive on a connected socket reports no sender: it can only be this one.
            _peerLength = SockaddrLayout.FromSocketAddress(remote.Serialize(), _peer);
        }
    }

    public Socket Socket { get; }

    public IDatagramReceiver Receiver { get; set; }

    public int LoopIndex { get; set; } = -1;

    public bool FlushQueued { get; set; }

    public IDatagramLoop? Loop { get; set; }

    public int PendingSends => _count;

    public bool IsDisposed => _disposed;

    public Span<byte> BeginSend()
    {
        if (_count == Capacity)
        {
            FlushSends();
        }

        return _sendBuffer.AsSpan(_count * _slotSize, _slotSize);
    }

    public void CommitSend(int length, ReadOnlySpan<byte> sockaddr)
    {
        _sendLengths[_count] = length;
        _sendAddressLengths[_count] = sockaddr.Length;
        sockaddr.CopyTo(_sendAddresses.AsSpan(_count * SockaddrLayout.IPv6Size, SockaddrLayout.IPv6Size));
        _count++;
        if (!FlushQueued)
        {
            FlushQueued = true;
            Loop?.QueueFlush(this);
        }
    }

    public void FlushSends()
    {
        var count = _count;
        var waits = 0;
        for (var i = 0; i < count && !_disposed; i++)
        {
            var length = _sendLengths[i];
            var error = SendOne(i, length);
            if (error == SocketError.WouldBlock)
            {
                // The socket's buffer is full: wait briefly for room, as the native path does,
                // rather than turn local back-pressure into loss KCP then has to retransmit.
                if (waits < MaxSendWaits && WaitWritable())
                {
                    waits++;
                    i--;
                    continue;
                }

                _counters.DatagramsDroppedOnSend += count - i;
                break;
            }

            if (error != SocketError.Success)
            {
                // Refused, unreachable...: to UDP a lost datagram, which KCP retransmits. Unlike one
                // sendmmsg, the rest of the batch (other peers, maybe) still goes.
                _counters.DatagramsDroppedOnSend++;
                continue;
            }

            _counters.BytesSent += length;
            _counters.DatagramsSent++;
            _counters.SendCalls++;
        }

        _count = 0;
    }

    private SocketError SendOne(int index, int length)
    {
        var datagram = new ReadOnlySpan<byte>(_sendBuffer, index * _slotSize, length);
        var addressLength = _sendAddressLengths[index];
        if (addressLength == 0)
        {
            Socket.Send(datagram, SocketFlags.None, out var error);
            return error;
        }

        var target = SockaddrLayout.ToSocketAddress(
            _sendAddresses.AsSpan(index * SockaddrLayout.IPv6Size, addressLength), _toIPv4, _toIPv6);
        if (target is null)
        {
            return SocketError.AddressFamilyNotSupported;
        }

        try
        {
            // SendTo has no overload that reports errors without throwing; they are rare here
            // (a full buffer, a refused or unreachable peer), not per datagram.
            Socket.SendTo(datagram, SocketFlags.None, target);
            return SocketError.Success;
        }
        catch (SocketException ex)
        {
            return ex.SocketErrorCode;
        }
    }

    private bool WaitWritable()
    {
        _counters.SendWaits++;
        return Socket.Poll(5_000, SelectMode.SelectWrite);
    }

    /// <summary>
    /// Reads datagrams into <paramref name="buffer"/> (one byte longer than a slot, to tell an
    /// oversize datagram from a full one) until the socket is empty or the fairness bound is hit.
    /// </summary>
    public void DrainReceive(byte[] buffer, uint now)
    {
        for (var i = 0; i < MaxReceivesPerDrain && !_disposed; i++)
        {
            int length;
            ReadOnlySpan<byte> from;
            if (_connected)
            {
                length = Socket.Receive(buffer, SocketFlags.None, out var error);
                if (error == SocketError.MessageSize)
                {
                    _counters.DroppedOversize++;
                    continue;
                }

                if (error != SocketError.Success)
                {
                    // WouldBlock ends the drain; ConnectionRefused (an ICMP error) is not data.
                    return;
                }

                from = _peer.AsSpan(0, _peerLength);
            }
            else
            {
                // ReceiveFrom reports an empty socket only by throwing, so after the first datagram
                // (the wait said there is one) ask how much is queued instead. A queued empty
                // datagram reads as 0 here: it waits for the next turn, whose wait returns at once.
                if (i > 0 && Socket.Available == 0)
                {
                    return;
                }

                try
                {
                    _from.Size = _from.Buffer.Length;
                    length = Socket.ReceiveFrom(buffer, SocketFlags.None, _from);
                }
                catch (SocketException ex) when (ex.SocketErrorCode == SocketError.MessageSize)
                {
                    _counters.DroppedOversize++;
                    continue;
                }
                catch (SocketException ex) when (ex.SocketErrorCode == SocketError.ConnectionReset)
                {
                    continue;
                }
                catch (SocketException)
                {
                    return;
                }

                from = _fromSockaddr.AsSpan(0, SockaddrLayout.FromSocketAddress(_from, _fromSockaddr));
            }

            _counters.ReceiveCalls++;
            _counters.DatagramsReceived++;
            _counters.BytesReceived += length;
            if (length > _slotSize)
            {
                _counters.DroppedOversize++;
                continue;
            }

            Receiver.OnDatagram(this, buffer.AsSpan(0, length), from, now);
        }
    }

    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        Socket.Dispose();
    }
}
