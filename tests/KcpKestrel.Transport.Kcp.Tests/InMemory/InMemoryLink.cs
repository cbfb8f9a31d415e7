using System.Net;
using System.Net.Sockets;
using KcpKestrel.Transport.Kcp.Io.Datagrams;
using KcpKestrel.Transport.Kcp.Io.Native;

namespace KcpKestrel.Transport.Kcp.Tests.InMemory;

/// <summary>
/// A datagram network in memory on a manual clock: endpoints with addresses, seeded loss, delay
/// and jitter (which reorders). Deterministic for a given seed.
/// </summary>
internal sealed class InMemoryLink(int seed)
{
    private readonly Random _random = new(seed);
    private readonly Dictionary<UdpAddressKey, InMemoryChannel> _endpoints = [];
    private readonly PriorityQueue<(InMemoryChannel To, byte[] From, byte[] Datagram), (uint At, long Seq)> _inFlight = new();
    private long _seq;

    public double Loss { get; set; }

    public int DelayMs { get; set; } = 5;

    public int JitterMs { get; set; }

    public uint Now { get; set; }

    /// <summary>Datagrams sent to this endpoint are recorded but never arrive (a spoofed source: its real owner never sees them).</summary>
    public InMemoryChannel? Blackhole { get; set; }

    /// <summary>Every datagram sent, in order, with its sender, before loss.</summary>
    public List<(uint At, InMemoryChannel From, byte[] Datagram)> Sent { get; } = [];

    public static byte[] Sockaddr(IPEndPoint endPoint)
    {
        var buffer = new byte[32];
        var length = SockaddrLayout.FromSocketAddress(endPoint.Serialize(), buffer);
        return buffer[..length];
    }

    /// <summary>An endpoint at <paramref name="address"/>; with <paramref name="peer"/> it is connected (sends go there).</summary>
    public InMemoryChannel Open(IPEndPoint address, IDatagramReceiver receiver, IPEndPoint? peer = null)
    {
        var channel = new InMemoryChannel(this, Sockaddr(address), peer is null ? null : Sockaddr(peer)) { Receiver = receiver };
        _endpoints[UdpAddressKey.From(address)] = channel;
        return channel;
    }

    internal void Send(InMemoryChannel from, ReadOnlySpan<byte> datagram, ReadOnlySpan<byte> to)
    {
        Sent.Add((Now, from, datagram.ToArray()));
        if (!UdpAddressKey.TryRead(to, out var key) || !_endpoints.TryGetValue(key, out var target) || target == Blackhole || _random.NextDouble() < Loss)
        {
            return;
        }

        var at = Now + (uint)DelayMs + (uint)(JitterMs > 0 ? _random.Next(JitterMs + 1) : 0);
        _inFlight.Enqueue((target, from.Address, datagram.ToArray()), (at, _seq++));
    }

    /// <summary>Hands every datagram due by <see cref="Now"/> to its endpoint's receiver.</summary>
    public void Deliver()
    {
        while (_inFlight.TryPeek(out var item, out var key) && (int)(key.At - Now) <= 0)
        {
            _inFlight.Dequeue();
            if (!item.To.IsDisposed)
            {
                item.To.Receiver.OnDatagram(item.To, item.Datagram, item.From, Now);
            }
        }
    }
}

/// <summary>One endpoint of an <see cref="InMemoryLink"/>: sends leave when the loop flushes (or at once).</summary>
internal sealed class InMemoryChannel(InMemoryLink link, byte[] address, byte[]? peer) : IDatagramChannel
{
    private readonly byte[] _slot = new byte[2048];

    public InMemoryLink Link => link;

    public byte[] Address => address;

    public Socket Socket => throw new NotSupportedException("An in-memory channel has no socket.");

    public IDatagramReceiver Receiver { get; set; } = null!;

    public int LoopIndex { get; set; } = -1;

    public bool FlushQueued { get; set; }

    public IDatagramLoop? Loop { get; set; }

    public int PendingSends => 0;

    public bool IsDisposed { get; private set; }

    public Span<byte> BeginSend() => _slot;

    public void CommitSend(int length, ReadOnlySpan<byte> sockaddr) =>
        link.Send(this, _slot.AsSpan(0, length), sockaddr.IsEmpty ? peer : sockaddr);

    public void FlushSends()
    {
    }

    public void Dispose() => IsDisposed = true;
}
