using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using KcpKestrel.Transport.Kcp.Client;
using KcpKestrel.Transport.Kcp.Tests.Infrastructure;
using static KcpKestrel.Tests.Shared.TestWaits;

namespace KcpKestrel.Transport.Kcp.Tests;

/// <summary>Garbage, mutations, truncations and floods of new endpoints at a live listener.</summary>
public sealed class HostileInputTests
{
    [Fact]
    public async Task RandomAndMutatedDatagrams_AreDroppedAndCounted_AndServiceContinues()
    {
        await using var listener = await DirectListener.BindAsync(k => { k.Crypt = "aes"; k.Key = "k"; k.IoLoopCount = 1; });
        var target = ((KcpEndPoint)listener.EndPoint).IPEndPoint;
        using var attacker = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        var random = new Random(42);
        var buffer = new byte[1500];
        const int Datagrams = 20_000;
        for (var i = 0; i < Datagrams; i++)
        {
            var length = random.Next(0, buffer.Length);
            random.NextBytes(buffer.AsSpan(0, length));
            attacker.SendTo(buffer.AsSpan(0, length), SocketFlags.None, target);
            if (i % 500 == 0)
            {
                await Task.Yield();
            }
        }

        // A real client still gets served.
        await using var factory = KcpTestHost.Client(k => k.Key = "k").CreateFactory();
        var client = await factory.ConnectAsync(listener.EndPoint);
        await client.Transport.Output.WriteAsync(new byte[] { 9 });
        var server = (await listener.AcceptAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(20)))!;
        var read = await server.Transport.Input.ReadAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(20));
        Assert.Equal(9, read.Buffer.FirstSpan[0]);

        var counters = listener.Counters;
        Assert.True(counters.DroppedCipher > Datagrams * 0.9, $"cipher drops {counters.DroppedCipher} of {Datagrams}");
        Assert.Equal(1, listener.SessionCount);
        await client.DisposeAsync();
        await server.DisposeAsync();
    }

    [Fact]
    public async Task FloodOfNewEndpoints_IsCappedAtMaxSessions()
    {
        // Without a cipher every well-formed segment passes the check: the limits are all that stands.
        await using var listener = await DirectListener.BindAsync(k =>
        {
            k.Crypt = "null";
            k.DataShards = k.ParityShards = 0;
            k.IoLoopCount = 1;
            k.MaxSessions = 50;
            k.AcceptQueueDepth = 1000;
            k.NewSessionsPerSecond = 0;
        });
        var target = ((KcpEndPoint)listener.EndPoint).IPEndPoint;
        var sockets = new List<Socket>();
        try
        {
            var segment = new byte[24 + 4];
            for (var i = 0; i < 300; i++)
            {
                var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
                sockets.Add(socket);
                BinaryPrimitives.WriteUInt32LittleEndian(segment, (uint)(1000 + i));
                segment[4] = 81; // PUSH, sn 0
                BinaryPrimitives.WriteUInt16LittleEndian(segment.AsSpan(6), 128);
                BinaryPrimitives.WriteUInt32LittleEndian(segment.AsSpan(20), 4);
                socket.SendTo(segment, target);
            }

            await WaitUntilAsync(() => listener.Counters.DroppedMaxSessions + listener.Counters.SessionsAccepted >= 300);
            Assert.Equal(50, listener.SessionCount);
            Assert.Equal(50, listener.Counters.SessionsAccepted);
            Assert.Equal(250, listener.Counters.DroppedMaxSessions);
        }
        finally
        {
            foreach (var socket in sockets)
            {
                socket.Dispose();
            }
        }
    }

    [Fact]
    public async Task NewSessionRate_IsLimited()
    {
        await using var listener = await DirectListener.BindAsync(k =>
        {
            k.Crypt = "null";
            k.DataShards = k.ParityShards = 0;
            k.IoLoopCount = 1;
            k.NewSessionsPerSecond = 20;
        });
        var target = ((KcpEndPoint)listener.EndPoint).IPEndPoint;
        var sockets = new List<Socket>();
        try
        {
            var segment = new byte[24];
            for (var i = 0; i < 200; i++)
            {
                var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
                sockets.Add(socket);
                BinaryPrimitives.WriteUInt32LittleEndian(segment, (uint)(5000 + i));
                segment[4] = 83; // WASK
                socket.SendTo(segment, target);
            }

            await WaitUntilAsync(() => listener.Counters.DroppedRateLimited + listener.Counters.SessionsAccepted >= 200);
            Assert.True(listener.Counters.DroppedRateLimited >= 150, $"rate-limited {listener.Counters.DroppedRateLimited} of 200");
        }
        finally
        {
            foreach (var socket in sockets)
            {
                socket.Dispose();
            }
        }
    }

    [Fact]
    public async Task WrongKey_EveryDatagramDroppedAndCounted_NoReplySent()
    {
        await using var listener = await DirectListener.BindAsync(k => { k.Crypt = "aes"; k.Key = "right"; k.IoLoopCount = 1; });
        var options = KcpTestHost.Client(k => k.Key = "wrong").Build();
        options.ConnectTimeout = TimeSpan.FromMilliseconds(800);
        options.ConnectRetries = 0;
        await using var factory = new Client.KcpConnectionFactory(options);

        await Assert.ThrowsAsync<Polly.Timeout.TimeoutRejectedException>(async () => await factory.ConnectAsync(listener.EndPoint));
        Assert.True(listener.Counters.DroppedCipher >= 1);
        Assert.Equal(0, listener.Counters.DatagramsSent);
        Assert.Equal(0, listener.SessionCount);
    }
}
