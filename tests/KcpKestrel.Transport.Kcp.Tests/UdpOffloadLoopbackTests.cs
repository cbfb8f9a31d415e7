using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using KcpKestrel.Transport.Kcp.Diagnostics;
using KcpKestrel.Transport.Kcp.Io.Datagrams;
using KcpKestrel.Transport.Kcp.Io.Native;

namespace KcpKestrel.Transport.Kcp.Tests;

/// <summary>
/// A <see cref="UdpChannel"/> sending bursts with UDP GSO on loopback: a plain socket (as kcp-go
/// has) must read exactly the datagrams queued, in order, and a GRO channel must split what the
/// kernel coalesced back into the same datagrams.
/// </summary>
public sealed class UdpOffloadLoopbackTests
{
    private const int SlotSize = 2048;

    // Datagrams sent before the receiver reads: past one 64-slot batch, well within a default
    // (208 KiB) socket receive buffer, so no test depends on how large the host lets buffers grow.
    private const int Chunk = 96;

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void EqualSizeBurst_ArrivesAtAPlainSocketAsTheSameDatagramsInOrder(bool gso)
    {
        using var receiver = PlainReceiver();
        var counters = new KcpTransportCounters();
        using var sender = Sender(counters, gso);
        var datagrams = Burst(seed: 1, count: 150, static (_, _) => 1350);

        var received = new List<byte[]>();
        foreach (var chunk in datagrams.Chunk(Chunk))
        {
            Send(sender, chunk, static _ => 0, [SockAddr(receiver)]);
            received.AddRange(ReadPlain(receiver, chunk.Length));
        }

        Assert.Equal(datagrams, received);
        Assert.Equal(datagrams.Count, counters.DatagramsSent);
        Assert.Equal(0, counters.DatagramsDroppedOnSend);
        AssertGsoUse(sender, counters, gso);
    }

    [Fact]
    public void MixedSizesAndPeers_EachPlainSocketReadsItsOwnDatagramsInOrder()
    {
        using var a = PlainReceiver();
        using var b = PlainReceiver();
        var counters = new KcpTransportCounters();
        using var sender = Sender(counters, gso: true);
        var datagrams = Burst(seed: 2, count: 300, MixedLength);

        // Runs of a few datagrams to one peer, then the other: both the run and the peer change.
        var toA = new List<byte[]>();
        var toB = new List<byte[]>();
        var atA = new List<byte[]>();
        var atB = new List<byte[]>();
        foreach (var chunk in datagrams.Chunk(Chunk))
        {
            Send(sender, chunk, static i => (i / 7) % 2, [SockAddr(a), SockAddr(b)]);
            var before = (toA.Count, toB.Count);
            for (var i = 0; i < chunk.Length; i++)
            {
                ((i / 7) % 2 == 0 ? toA : toB).Add(chunk[i]);
            }

            atA.AddRange(ReadPlain(a, toA.Count - before.Item1));
            atB.AddRange(ReadPlain(b, toB.Count - before.Item2));
        }

        Assert.Equal(toA, atA);
        Assert.Equal(toB, atB);
        Assert.Equal(0, counters.DatagramsDroppedOnSend);
        AssertGsoUse(sender, counters, expected: true);
    }

    [Theory]
    [InlineData(true, true)]
    [InlineData(true, false)]
    [InlineData(false, true)]
    public void MixedBurst_AtAGroChannel_IsSplitIntoTheSameDatagrams(bool gso, bool gro)
    {
        var receiveCounters = new KcpTransportCounters();
        var collector = new Collector();
        using var receiver = new UdpChannel(BoundSocket(), collector, receiveCounters, SlotSize, gro: gro);
        using var batch = new MessageBatch(16, 65536, controlSize: 64);
        var counters = new KcpTransportCounters();
        using var sender = Sender(counters, gso);
        var datagrams = Burst(seed: 3, count: 400, MixedLength);

        var expected = 0;
        foreach (var chunk in datagrams.Chunk(Chunk))
        {
            Send(sender, chunk, static _ => 0, [SockAddr(receiver.Socket)]);
            expected += chunk.Length;
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
            while (collector.Datagrams.Count < expected && DateTime.UtcNow < deadline)
            {
                if (receiver.Socket.Poll(TimeSpan.FromMilliseconds(200), SelectMode.SelectRead))
                {
                    receiver.DrainReceive(batch, 0);
                }
            }
        }

        Assert.Equal(datagrams, collector.Datagrams);
        Assert.Equal(datagrams.Count, receiveCounters.DatagramsReceived);
        Assert.Equal(0, receiveCounters.DroppedOversize);
        if (gso && sender.GsoEnabled && receiver.GroEnabled)
        {
            // Loopback hands a GSO message to a GRO socket whole: the split is what was exercised.
            Assert.True(receiveCounters.GroReceives > 0);
            Assert.True(receiveCounters.GroSegmentsReceived > receiveCounters.GroReceives);
        }
        else if (!receiver.GroEnabled)
        {
            Assert.Equal(0, receiveCounters.GroReceives);
        }
    }

    [Fact]
    public void GsoRefusedByTheKernel_TurnsGsoOff_AndResendsEveryDatagramPlainly()
    {
        using var receiver = PlainReceiver();
        var counters = new KcpTransportCounters();
        var socket = BoundSocket();

        // Linux refuses UDP_SEGMENT with EINVAL on a socket that sends without checksums (SO_NO_CHECK):
        // a deterministic stand-in for a device that cannot segment.
        socket.SetRawSocketOption(LinuxNative.SOL_SOCKET, SoNoCheck, BitConverter.GetBytes(1));
        using var sender = new UdpChannel(socket, new Collector(), counters, SlotSize, gso: true);
        var hadGso = sender.GsoEnabled;
        var datagrams = Burst(seed: 4, count: 100, static (_, _) => 1200);

        var received = new List<byte[]>();
        foreach (var chunk in datagrams.Chunk(Chunk))
        {
            Send(sender, chunk, static _ => 0, [SockAddr(receiver)]);
            received.AddRange(ReadPlain(receiver, chunk.Length));
        }

        Assert.Equal(datagrams, received);
        Assert.False(sender.GsoEnabled);
        Assert.Equal(hadGso ? 1 : 0, counters.GsoDisabled);
        Assert.Equal(0, counters.GsoMessagesSent);
        Assert.Equal(0, counters.DatagramsDroppedOnSend);
        Assert.Equal(datagrams.Count, counters.DatagramsSent);
    }

    private const int SoNoCheck = 11;

    private static int MixedLength(Random random, int index) => (index % 11) switch
    {
        3 => random.Next(24, 200), // an ack-sized datagram ends a run
        7 => random.Next(1000, 1400),
        _ => index % 50 < 25 ? 1350 : 1400, // long stretches of full-size datagrams, two sizes
    };

    private static void AssertGsoUse(UdpChannel sender, KcpTransportCounters counters, bool expected)
    {
        if (expected && sender.GsoEnabled)
        {
            Assert.True(counters.GsoMessagesSent > 0);
            Assert.True(counters.GsoSegmentsSent > counters.GsoMessagesSent);
            Assert.True(counters.SendCalls < counters.DatagramsSent);
        }
        else
        {
            Assert.Equal(0, counters.GsoMessagesSent);
        }
    }

    private static List<byte[]> Burst(int seed, int count, Func<Random, int, int> length)
    {
        var random = new Random(seed);
        var datagrams = new List<byte[]>(count);
        for (var i = 0; i < count; i++)
        {
            var datagram = new byte[length(random, i)];
            random.NextBytes(datagram);
            BinaryPrimitives.WriteInt16LittleEndian(datagram, (short)i);
            datagrams.Add(datagram);
        }

        return datagrams;
    }

    private static void Send(UdpChannel sender, byte[][] datagrams, Func<int, int> peerOf, byte[][] peers)
    {
        for (var i = 0; i < datagrams.Length; i++)
        {
            var slot = sender.BeginSend();
            datagrams[i].CopyTo(slot);
            sender.CommitSend(datagrams[i].Length, peers[peerOf(i)]);
        }

        sender.FlushSends();
    }

    private static List<byte[]> ReadPlain(Socket socket, int count)
    {
        var received = new List<byte[]>(count);
        var buffer = new byte[65536];
        EndPoint from = new IPEndPoint(IPAddress.Any, 0);
        while (received.Count < count)
        {
            var n = socket.ReceiveFrom(buffer, ref from);
            received.Add(buffer.AsSpan(0, n).ToArray());
        }

        return received;
    }

    private static UdpChannel Sender(KcpTransportCounters counters, bool gso) =>
        new(BoundSocket(), new Collector(), counters, SlotSize, gso: gso);

    private static Socket PlainReceiver()
    {
        var socket = BoundSocket();
        socket.ReceiveTimeout = 10_000;
        return socket;
    }

    private static Socket BoundSocket()
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp)
        {
            ReceiveBufferSize = 4 << 20,
            SendBufferSize = 4 << 20,
        };
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return socket;
    }

    private static byte[] SockAddr(Socket socket)
    {
        var endPoint = (IPEndPoint)socket.LocalEndPoint!;
        var sockaddr = new byte[16];
        BinaryPrimitives.WriteUInt16LittleEndian(sockaddr, LinuxNative.AF_INET);
        BinaryPrimitives.WriteUInt16BigEndian(sockaddr.AsSpan(2), (ushort)endPoint.Port);
        endPoint.Address.TryWriteBytes(sockaddr.AsSpan(4), out _);
        return sockaddr;
    }

    private sealed class Collector : IDatagramReceiver
    {
        public List<byte[]> Datagrams { get; } = [];

        public void OnDatagram(IDatagramChannel channel, Span<byte> datagram, ReadOnlySpan<byte> sockaddr, uint now) =>
            Datagrams.Add(datagram.ToArray());
    }
}
