using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;
using KcpKestrel.Multicast.Bridge;
using KcpKestrel.Multicast.Diagnostics;
using KcpKestrel.Multicast.Tests.Harness;
using KcpKestrel.Protocols;
using KcpKestrel.Transport.Kcp;
using KcpKestrel.Transport.Kcp.Client;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace KcpKestrel.Multicast.Tests.Bridge;

public sealed class MulticastBridgeTests
{
    private const int Count = 300;
    private const string KcpKey = "multicast-bridge-test";

    [Fact]
    public async Task TwoClientsOverKestrelTcp_GetEveryPublishedMessageInOrder()
    {
        var group = LoopbackGroup.V4(node: 2);
        var (host, endpoint) = await StartBridgeHostAsync(group);
        try
        {
            using var first = await ConnectAsync((IPEndPoint)endpoint);
            using var second = await ConnectAsync((IPEndPoint)endpoint);
            await PublishAndReadAsync(host, group, Reader(first), Reader(second));
        }
        finally
        {
            await KestrelTestHost.StopAndDisposeAsync(host, TimeSpan.FromSeconds(5));
        }
    }

    [Fact]
    public async Task TwoClientsOverKestrelKcp_GetEveryPublishedMessageInOrder()
    {
        var group = LoopbackGroup.V4(node: 2);
        var (host, endpoint) = await StartBridgeHostAsync(group, kcp: true);
        try
        {
            await using var factory = new KcpConnectionFactory(new KcpClientOptions { Kcp = new KcpOptions { Key = KcpKey } });
            await using var first = await factory.ConnectAsync(endpoint);
            await using var second = await factory.ConnectAsync(endpoint);
            await PublishAndReadAsync(host, group, first.Transport.Input, second.Transport.Input);
        }
        finally
        {
            await KestrelTestHost.StopAndDisposeAsync(host, TimeSpan.FromSeconds(5));
        }
    }

    private static async Task PublishAndReadAsync(IHost host, MulticastOptions group, PipeReader first, PipeReader second)
    {
        {
            var bridge = host.Services.GetRequiredService<MulticastBridge>();
            await TestWaits.WaitUntilAsync(() => bridge.Clients == 2, "both clients bridged");

            using (var publisher = new MulticastTransport(LoopbackGroup.Member(group, node: 1)))
            {
                var message = new byte[70];
                for (var i = 0; i < Count; i++)
                {
                    publisher.Offer(message.AsSpan(0, SequenceMessages.Write(message, i, 10 + (i % 60))), topic: 1, flush: i % 10 == 9 || i == Count - 1);
                }

                // Topic 2 is not bridged on this endpoint: its messages reach no client.
                publisher.Offer(message.AsSpan(0, SequenceMessages.Write(message, 999, 70)), topic: 2, flush: true);
                var received = await Task.WhenAll(ReadIndicesAsync(first, Count), ReadIndicesAsync(second, Count));
                Assert.All(received, indices => Assert.Equal(Enumerable.Range(0, Count), indices));
            }
        }
    }

    [Fact]
    public async Task ClientWrites_ArePublishedToTheGroupAndToTheOtherClients()
    {
        var group = LoopbackGroup.V4(node: 2);
        var (host, endpoint) = await StartBridgeHostAsync(group);
        try
        {
            using var writer = await ConnectAsync((IPEndPoint)endpoint);
            using var reader = await ConnectAsync((IPEndPoint)endpoint);
            var bridge = host.Services.GetRequiredService<MulticastBridge>();
            await TestWaits.WaitUntilAsync(() => bridge.Clients == 2, "both clients bridged");
            var receiver = new CheckingReceiver();
            using var subscriber = new MulticastTransport(LoopbackGroup.Member(group, node: 3), receiver, 1);

            var output = new ArrayBufferWriter<byte>();
            var message = new byte[100];
            for (var i = 0; i < Count; i++)
            {
                LengthPrefixedProtocol.Write(output, message.AsSpan(0, SequenceMessages.Write(message, i, 20 + (i % 80))));
            }

            await writer.SendAsync(output.WrittenMemory);
            Assert.Equal(Enumerable.Range(0, Count), await ReadIndicesAsync(Reader(reader), Count));
            await TestWaits.WaitUntilAsync(() => receiver.Next >= Count, $"{Count} messages at a group member");
            Assert.Equal((Count, 0, 0), (receiver.InOrder, receiver.Duplicates, receiver.Corrupt));
            Assert.Equal(Count, bridge.Published);
        }
        finally
        {
            await KestrelTestHost.StopAndDisposeAsync(host, TimeSpan.FromSeconds(5));
        }
    }

    [Theory]
    [InlineData(MulticastBridgeOverflow.Disconnect)]
    [InlineData(MulticastBridgeOverflow.DropNewest)]
    public async Task ClientNotReading_QueueFull_OverflowPolicyAppliesWithoutBlockingTheReceiveThread(MulticastBridgeOverflow overflow)
    {
        using var metrics = new MulticastMetrics(meterFactory: null);
        var bridge = new MulticastBridge(
            new Lazy<MulticastTransport>(() => throw new InvalidOperationException("no publishing in this test")),
            Options.Create(new MulticastBridgeOptions { QueueLimit = 4, Overflow = overflow }),
            Options.Create(new MulticastOptions()),
            metrics,
            new NextReceiver(null));

        // The connection's output pipe holds 1 KiB: a client that does not read stalls the write loop.
        var toClient = new Pipe(new PipeOptions(pauseWriterThreshold: 1024, resumeWriterThreshold: 512));
        var fromClient = new Pipe();
        var connection = new DefaultConnectionContext("slow", new DuplexPipe(fromClient.Reader, toClient.Writer), new DuplexPipe(toClient.Reader, fromClient.Writer));
        var serving = bridge.HandleAsync(connection, topic: 1);
        await TestWaits.WaitUntilAsync(() => bridge.Clients == 1, "the client bridged");

        var message = new byte[1000];
        for (var i = 0; i < 100; i++)
        {
            bridge.OnMessage(1, message);
        }

        Assert.True(bridge.Dropped > 0, "messages past the queue limit were dropped");
        // The write loop drains the whole queue before each flush, and the first flush (one 1004-byte message
        // under the 1 KiB pause threshold) may complete: it can take two queuefuls before its flush stalls,
        // depending on how the threads interleave, and then the queue fills once more.
        Assert.True(bridge.Forwarded <= 3 * 4, $"at most the queue limit plus what the stalled write loop took ({bridge.Forwarded})");
        if (overflow == MulticastBridgeOverflow.Disconnect)
        {
            Assert.Equal(1, bridge.Disconnected);
            await serving.WaitAsync(TestWaits.Bound);
            Assert.Equal(0, bridge.Clients);
        }
        else
        {
            Assert.Equal(0, bridge.Disconnected);
            Assert.False(serving.IsCompleted);
            await fromClient.Writer.CompleteAsync();
            await toClient.Reader.CompleteAsync();
            await serving.WaitAsync(TestWaits.Bound);
        }
    }

    [Fact]
    public void Options_QueueLimitOutOfRange_ThrowsNamingIt()
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(new MulticastBridgeOptions { QueueLimit = 0 }.Validate);
        Assert.Equal(nameof(MulticastBridgeOptions.QueueLimit), error.ParamName);
    }

    private static async Task<(IHost Host, EndPoint Endpoint)> StartBridgeHostAsync(MulticastOptions group, bool kcp = false)
    {
        ListenOptions? listen = null;
        var host = await KestrelTestHost.StartAsync(web =>
        {
            if (kcp)
            {
                web.UseKcp();
            }

            web.UseKestrel(k =>
                {
                    if (kcp)
                    {
                        k.ListenKcp(IPAddress.Loopback, 0, o => o.Key = KcpKey, l => (listen = l).UseMulticastBridge(topic: 1));
                    }
                    else
                    {
                        k.Listen(IPAddress.Loopback, 0, l => (listen = l).UseMulticastBridge(topic: 1));
                    }
                })
                .ConfigureServices(s =>
                {
                    s.AddMulticast(o => (o.Group, o.Interface, o.NodeId, o.Join) = (group.Group, group.Interface, group.NodeId, MulticastJoin.Beginning));
                    s.AddMulticastBridge();
                });
        });
        return (host, listen!.EndPoint);
    }

    private static PipeReader Reader(Socket socket) => PipeReader.Create(new NetworkStream(socket, ownsSocket: false));

    private static async Task<Socket> ConnectAsync(IPEndPoint endpoint)
    {
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        await socket.ConnectAsync(endpoint);
        return socket;
    }

    /// <summary>Reads <paramref name="count"/> length-prefixed messages and returns the index each carries.</summary>
    private static async Task<List<int>> ReadIndicesAsync(PipeReader reader, int count)
    {
        var indices = new List<int>();
        using var cts = new CancellationTokenSource(TestWaits.Bound);
        while (indices.Count < count)
        {
            var result = await reader.ReadAsync(cts.Token);
            var buffer = result.Buffer;
            while (indices.Count < count && LengthPrefixedProtocol.TryRead(ref buffer, out var message))
            {
                indices.Add(SequenceMessages.Check(message.ToArray()));
            }

            reader.AdvanceTo(buffer.Start, buffer.End);
            Assert.False(result.IsCompleted, $"the connection ended after {indices.Count} of {count} messages");
        }

        return indices;
    }

    private sealed class DuplexPipe(PipeReader input, PipeWriter output) : IDuplexPipe
    {
        public PipeReader Input => input;

        public PipeWriter Output => output;
    }
}
