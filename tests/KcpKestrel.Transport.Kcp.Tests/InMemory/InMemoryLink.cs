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
    private readonly Dictionary<UdpAddressKey, (InMemoryChannel[] Members, Func<UdpAddressKey, int> Steer)> _groups = [];
    private readonly PriorityQueue<(InMemoryChannel To, byte[] From, byte[] Datagram), (uint At, long Seq)> _inFlight = new();
    private long _seq;

    public double Loss { get; set; }

    public int DelayMs { get; set; } = 5;

    public int JitterMs { get; set; }

    public uint Now { get; set; }

    /// <summary>Datagrams sent to this endpoint are recorded but never arrive (a spoofed source: its real owner never sees them).</summary>
    public InMemoryChannel? Blackhole { get; set; }

    /// <summary>Every datagram sent, in order, with its sender, destination and source address, before loss.</summary>
    public List<(uint At, InMemoryChannel From, byte[] Datagram, UdpAddressKey To, UdpAddressKey Source)> Sent { get; } = [];

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

    /// <summary>
    /// Endpoints sharing <paramref name="address"/>, as SO_REUSEPORT sockets do: a datagram to it goes to the member
    /// <paramref name="steer"/> picks for its source address (the kernel's hash).
    /// </summary>
    public InMemoryChannel[] OpenGroup(IPEndPoint address, int members, Func<UdpAddressKey, int> steer)
    {
        var channels = new InMemoryChannel[members];
        for (var i = 0; i < members; i++)
        {
            channels[i] = new InMemoryChannel(this, Sockaddr(address), null);
        }

        _groups[UdpAddressKey.From(address)] = (channels, steer);
        return channels;
    }

    /// <summary>
    /// The endpoint's datagrams leave from <paramref name="address"/> from now on, and datagrams to it arrive (a NAT
    /// rebinding); its old address still delivers to it only with <paramref name="keepOld"/>.
    /// </summary>
    public void Rebind(InMemoryChannel channel, IPEndPoint address, bool keepOld = false)
    {
        if (!keepOld && UdpAddressKey.TryRead(channel.Address, out var old))
        {
            _endpoints.Remove(old);
        }

        channel.Address = Sockaddr(address);
        _endpoints[UdpAddressKey.From(address)] = channel;
    }

    internal void Send(InMemoryChannel from, ReadOnlySpan<byte> datagram, ReadOnlySpan<byte> to)
    {
        UdpAddressKey.TryRead(to, out var key);
        UdpAddressKey.TryRead(from.Address, out var source);
        Sent.Add((Now, from, datagram.ToArray(), key, source));
        if (_groups.TryGetValue(key, out var group))
        {
            var target = group.Members[group.Steer(source)];
            Enqueue(from, target, datagram);
        }
        else if (_endpoints.TryGetValue(key, out var target))
        {
            Enqueue(from, target, datagram);
        }
    }

    private void Enqueue(InMemoryChannel from, InMemoryChannel target, ReadOnlySpan<byte> datagram)
    {
        if (target == Blackhole || _random.NextDouble() < Loss)
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

    /// <summary>Where its datagrams come from (see <see cref="InMemoryLink.Rebind"/>).</summary>
    public byte[] Address { get; set; } = address;

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
