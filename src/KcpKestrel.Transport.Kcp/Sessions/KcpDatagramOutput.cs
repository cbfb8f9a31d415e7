using System.Buffers;
using KcpKestrel.Core.Arq;
using KcpKestrel.Core.Crypto;
using KcpKestrel.Core.Fec;
using KcpKestrel.Transport.Kcp.Diagnostics;
using KcpKestrel.Transport.Kcp.Io.Datagrams;

namespace KcpKestrel.Transport.Kcp.Sessions;

/// <summary>
/// A session's way out: KCP bytes → FEC encode (data shard, then any parity shards) → cipher seal
/// → the channel's send batch. Each datagram is laid out as
/// <c>[cipher header][FEC header][KCP segments][cipher trailer]</c>; KCP leaves <see cref="Reserved"/>
/// bytes of room for the headers and trailer in every output buffer. Loop thread only.
/// </summary>
internal sealed class KcpDatagramOutput : IDisposable
{
    private readonly IDatagramChannel _channel;
    private byte[] _sockaddr;
    private readonly PacketCipher _cipher;
    private readonly FecEncoder? _fecEncoder;
    private readonly AmplificationBudget _budget;
    private readonly KcpTransportCounters _counters;

    public KcpDatagramOutput(IDatagramChannel channel, ReadOnlySpan<byte> sockaddr, PacketCipher cipher, KcpOptions options, ArrayPool<byte> bufferPool, AmplificationBudget budget, KcpTransportCounters counters)
    {
        _channel = channel;
        _budget = budget;
        _counters = counters;
        _sockaddr = sockaddr.ToArray();
        _cipher = cipher;
        var fec = HasFec(options);
        if (fec)
        {
            _fecEncoder = new FecEncoder(options.DataShards, options.ParityShards, cipher.HeaderSize) { BufferPool = bufferPool };
        }

        Prefix = PrefixSize(cipher, fec);
        Reserved = Prefix + cipher.TrailerSize;
        MaxSegmentPayload = Math.Max(1, options.Mtu - SegmentHeader.Size - Reserved);
    }

    /// <summary>Bytes before the KCP segments: the cipher header, then the FEC header when FEC is on.</summary>
    public int Prefix { get; }

    /// <summary>Bytes of each datagram that are not KCP's: <see cref="Prefix"/> and the cipher trailer.</summary>
    public int Reserved { get; }

    /// <summary>The most app bytes one segment carries: the MTU less the segment header and <see cref="Reserved"/>.</summary>
    public int MaxSegmentPayload { get; }

    /// <summary>True once the socket is gone: nothing can leave any more.</summary>
    public bool IsClosed => _channel.IsDisposed;

    public static bool HasFec(KcpOptions options) => options.DataShards > 0 && options.ParityShards > 0;

    /// <summary>Bytes before the KCP segments of a datagram, once the cipher has opened it: the FEC header, if any.</summary>
    public static int OpenedPrefixSize(bool fec) => fec ? FecPacket.HeaderSizePlusSize : 0;

    private static int PrefixSize(PacketCipher cipher, bool fec) => cipher.HeaderSize + OpenedPrefixSize(fec);

    /// <summary>Sends KCP's output (segments, without the reserved room) as one data datagram plus any parity.</summary>
    public void Send(ReadOnlySpan<byte> kcpBytes, uint now)
    {
        if (_channel.IsDisposed)
        {
            // The listener or client shut down under us: nothing can leave any more.
            return;
        }

        var slot = _channel.BeginSend();
        kcpBytes.CopyTo(slot[Prefix..]);
        var length = Prefix + kcpBytes.Length;
        if (_fecEncoder is null)
        {
            Seal(slot, length);
            return;
        }

        var parity = _fecEncoder.Encode(slot, length, now);
        Seal(slot, length);
        for (var i = 0; i < parity; i++)
        {
            var packet = _fecEncoder.GetParityPacket(i, out var parityLength);
            var paritySlot = _channel.BeginSend();
            packet[..parityLength].CopyTo(paritySlot);
            Seal(paritySlot, parityLength);
        }
    }

    /// <summary>Sends one bare segment (close signal, window probe) through FEC and cipher like any other.</summary>
    public void SendControl(uint conv, byte cmd, ushort window, uint now) =>
        SendSegment(new SegmentHeader(conv, (KcpCommand)cmd, 0, window, now, 0, 0, 0), now);

    /// <summary>Sends one bare segment header (no payload) through FEC and cipher like any other.</summary>
    public void SendSegment(in SegmentHeader header, uint now)
    {
        Span<byte> segment = stackalloc byte[SegmentHeader.Size];
        header.Write(segment);
        Send(segment, now);
    }

    /// <summary>
    /// Sends <paramref name="body"/> sealed but outside FEC (no FEC header, never in a parity group): the
    /// address-validation control datagrams (<see cref="AddressValidation"/>).
    /// </summary>
    public void SendUnframed(ReadOnlySpan<byte> body)
    {
        if (_channel.IsDisposed)
        {
            return;
        }

        var slot = _channel.BeginSend();
        body.CopyTo(slot[_cipher.HeaderSize..]);
        Seal(slot, _cipher.HeaderSize + body.Length);
    }

    /// <summary>Sends go to <paramref name="sockaddr"/> from now on (a migrated session; rare, so it may allocate).</summary>
    public void MoveTo(ReadOnlySpan<byte> sockaddr) => _sockaddr = sockaddr.ToArray();

    public void Dispose() => _fecEncoder?.Dispose();

    private void Seal(Span<byte> slot, int length)
    {
        var total = _cipher.Seal(slot, length - _cipher.HeaderSize);
        if (!_budget.TrySend(total))
        {
            // Not committed, so the slot is reused: to KCP this is a lost datagram, resent later.
            _counters.AmplificationLimited++;
            return;
        }

        _channel.CommitSend(total, _sockaddr);
    }
}
