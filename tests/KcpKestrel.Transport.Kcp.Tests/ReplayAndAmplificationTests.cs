using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using KcpKestrel.Core.Arq;
using KcpKestrel.Core.Crypto;
using KcpKestrel.Transport.Kcp.Tests.Infrastructure;
using static KcpKestrel.Tests.Shared.TestWaits;

namespace KcpKestrel.Transport.Kcp.Tests;

public sealed class ReplayAndAmplificationTests
{
    [Fact]
    public async Task AeadReplay_IsDroppedAndCounted()
    {
        await using var listener = await DirectListener.BindAsync(k =>
        {
            k.Crypt = "aes-256-gcm";
            k.Key = "replay";
            k.AddressValidation = false; // a raw WASK opens the session; AddressValidationTests cover the token path
            k.DataShards = k.ParityShards = 0;
            k.IoLoopCount = 1;
        });
        var target = ((KcpEndPoint)listener.EndPoint).IPEndPoint;
        using var cipher = PacketCipherFactory.Create("aes-256-gcm", "replay");
        var packet = new byte[cipher.Overhead + SegmentHeader.Size];
        new SegmentHeader(77, KcpCommand.WindowAsk, 0, 128, 0, 0, 0, 0).Write(packet.AsSpan(cipher.HeaderSize));
        var length = cipher.Seal(packet, SegmentHeader.Size);
        var datagram = packet[..length];

        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        socket.Connect(target);
        socket.Send(datagram);
        await WaitUntilAsync(() => listener.Counters.SessionsAccepted == 1);
        for (var i = 0; i < 10; i++)
        {
            socket.Send(datagram);
        }

        await WaitUntilAsync(() => listener.Counters.DroppedReplay == 10);
        Assert.Equal(0, listener.Counters.DroppedCipher);
    }

    [Fact]
    public async Task WithoutACipher_AnUnknownSourceGetsNoMoreBytesThanItSent()
    {
        await using var listener = await DirectListener.BindAsync(k =>
        {
            k.Crypt = "null";
            k.DataShards = k.ParityShards = 0;
            k.IoLoopCount = 1;
        });
        var target = ((KcpEndPoint)listener.EndPoint).IPEndPoint;
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        socket.Connect(target);
        socket.ReceiveTimeout = 200;

        long sent = 0;
        var random = new Random(5);
        var segment = new byte[24 + 16];
        for (uint i = 0; i < 200; i++)
        {
            // The kinds of segment that could make a server talk: probes, data, and acks of nothing.
            var cmd = (KcpCommand)(81 + (i % 4));
            new SegmentHeader(900, cmd, 0, 128, i, i, 0, cmd == KcpCommand.Push ? 16u : 0u).Write(segment);
            var length = cmd == KcpCommand.Push ? 40 : 24;
            random.NextBytes(segment.AsSpan(24));
            socket.Send(segment.AsSpan(0, length));
            sent += length;
        }

        long received = 0;
        var buffer = new byte[2048];
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(2);
        while (DateTime.UtcNow < deadline)
        {
            try
            {
                received += socket.Receive(buffer);
            }
            catch (SocketException)
            {
            }
        }

        Assert.True(received <= sent, $"sent {sent} bytes, got {received} back");
        await Task.CompletedTask;
    }
}
