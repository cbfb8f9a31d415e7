using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using KcpKestrel.Core.Arq;
using KcpKestrel.Core.Fec;
using KcpKestrel.Transport.Kcp.Tests.Infrastructure;
using Xunit.Abstractions;

namespace KcpKestrel.Transport.Kcp.Tests;

/// <summary>Many sessions at a live listener, each trying to make it hold as much as it can.</summary>
[Collection(HeapMeasurementCollection.Name)]
public sealed class HostileMemoryTests(ITestOutputHelper output)
{
    private const int Sessions = 256;
    private const int SegmentsPerSession = 400;
    private const int Payload = 1376;
    private const long ListenerBudget = 32L << 20;

    // What the listener may hold beyond its budget after the attack: its sessions' own objects (pipes,
    // FEC group tables, receive rings of the initial size), the shared codecs, and the loop's pool of
    // returned buffers (up to 8 MiB).
    private const long OverheadBound = 48L << 20;

    [Fact]
    public async Task HostileSessions_HoldNoMoreThanTheListenerBudget()
    {
        await using var listener = await DirectListener.BindAsync(k =>
        {
            k.Crypt = "null";
            k.DataShards = 10;
            k.ParityShards = 3;
            k.IoLoopCount = 1;
            k.AcceptQueueDepth = Sessions * 2;
            k.NewSessionsPerSecond = 0;
            k.UnprovenIdleTimeout = TimeSpan.FromMinutes(5);
            k.ListenerReceiveBudget = ListenerBudget;
        });
        var target = ((KcpEndPoint)listener.EndPoint).IPEndPoint;
        var before = GC.GetTotalMemory(forceFullCollection: true);

        var sockets = new List<Socket>();
        long peakHeld = 0;
        try
        {
            for (var i = 0; i < Sessions; i++)
            {
                var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
                socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
                sockets.Add(socket);
            }

            // Each session sends everything but sn 0 (so nothing can be delivered and all of it would be held),
            // as FEC groups of its own shape (so the auto-tuner asks for a codec per shape), never complete.
            var datagram = new byte[FecPacket.HeaderSize + 2 + SegmentHeader.Size + Payload];
            for (var burst = 0; burst < SegmentsPerSession; burst += 50)
            {
                for (var i = 0; i < Sessions; i++)
                {
                    SendBurst(sockets[i], target, i, burst, Math.Min(burst + 50, SegmentsPerSession), datagram);
                }

                peakHeld = Math.Max(peakHeld, listener.ReceiveMemory.Held);
                await Task.Delay(20);
            }

            // Until the listener has taken in everything that arrived (bounded: 100 polls of 200 ms).
            var last = -1L;
            for (var poll = 0; poll < 100; poll++)
            {
                await Task.Delay(200);
                peakHeld = Math.Max(peakHeld, listener.ReceiveMemory.Held);
                var received = listener.Counters.DatagramsReceived;
                if (received == last)
                {
                    break;
                }

                last = received;
            }

            var after = GC.GetTotalMemory(forceFullCollection: true);
            var counters = listener.Counters;
            output.WriteLine(
                $"{Sessions} hostile sessions x {SegmentsPerSession} segments ({counters.DatagramsReceived:N0} datagrams in): " +
                $"listener held {listener.ReceiveMemory.Held:N0} bytes now, peak reserved {listener.ReceiveMemory.PeakReserved:N0}, " +
                $"sampled peak held {peakHeld:N0}, budget {ListenerBudget:N0}; managed heap +{(after - before) / (1 << 20)} MiB " +
                $"(bound {(ListenerBudget + OverheadBound) >> 20} MiB); sessions accepted {counters.SessionsAccepted}, " +
                $"closed for memory {counters.SessionsClosedForMemory}; drops session_budget {counters.DroppedSessionBudget:N0}, " +
                $"listener_budget {counters.DroppedListenerBudget:N0}");

            Assert.InRange(listener.ReceiveMemory.PeakReserved, 0, ListenerBudget);
            Assert.InRange(listener.ReceiveMemory.Held, 0, ListenerBudget);
            Assert.True(counters.DroppedListenerBudget > 0, "the attack never reached the listener budget");
            Assert.True(counters.SessionsClosedForMemory > 0, "no session was closed for memory");
            Assert.InRange(after - before, long.MinValue, ListenerBudget + OverheadBound);
        }
        finally
        {
            foreach (var socket in sockets)
            {
                socket.Dispose();
            }
        }
    }

    /// <summary>Sends segments [from, to) of session <paramref name="i"/>: sn from + 1 on, as FEC data shards of a shape of its own, with parity in place.</summary>
    private static void SendBurst(Socket socket, IPEndPoint target, int i, int from, int to, byte[] datagram)
    {
        var dataShards = 2 + (i % 30);
        var parityShards = 1 + (i % 5);
        var period = dataShards + parityShards;
        var conv = 0x1000u + (uint)i;
        var shardLength = 2 + SegmentHeader.Size + Payload;

        // seqid counts data and parity; segment s is data shard s of the stream.
        var seqid = (uint)(from / dataShards * period + (from % dataShards));
        for (var s = from; s < to;)
        {
            var index = (int)(seqid % (uint)period);
            BinaryPrimitives.WriteUInt32LittleEndian(datagram, seqid++);
            if (index < dataShards)
            {
                BinaryPrimitives.WriteUInt16LittleEndian(datagram.AsSpan(4), FecPacket.TypeData);
                BinaryPrimitives.WriteUInt16LittleEndian(datagram.AsSpan(6), (ushort)shardLength);
                new SegmentHeader(conv, KcpCommand.Push, 0, 1024, 0, (uint)s + 1, 0, Payload).Write(datagram.AsSpan(FecPacket.HeaderSize + 2));
                s++;
            }
            else
            {
                BinaryPrimitives.WriteUInt16LittleEndian(datagram.AsSpan(4), FecPacket.TypeParity);
                datagram.AsSpan(FecPacket.HeaderSize).Fill((byte)seqid);
            }

            socket.SendTo(datagram, target);
        }
    }
}
