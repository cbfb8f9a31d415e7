using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Microsoft.AspNetCore.Http;
using Xunit.Abstractions;

namespace KcpKestrel.Transport.Tcp.Tests;

/// <summary>HTTP/1.1 through a real Kestrel host on each engine: pipelining, large bodies, descriptors after churn.</summary>
[Collection(nameof(IoUringEngineTests))]
public sealed class IoUringKestrelTests(ITestOutputHelper output)
{
    private const int Depth = 16;
    private const int LargeBody = 1 << 20;

    /// <summary>Answers /large with <see cref="LargeBody"/> seeded bytes, anything else with its own path as the body.</summary>
    private static readonly RequestDelegate App = static async ctx =>
    {
        if (ctx.Request.Path == "/large")
        {
            ctx.Response.ContentLength = LargeBody;
            await ctx.Response.Body.WriteAsync(LargeBytes);
            return;
        }

        var body = Encoding.ASCII.GetBytes(ctx.Request.Path.Value ?? string.Empty);
        ctx.Response.ContentLength = body.Length;
        await ctx.Response.Body.WriteAsync(body);
    };

    private static readonly byte[] LargeBytes = Seeded(LargeBody, seed: 7);

    [Theory]
    [InlineData(TcpEngine.Epoll)]
    [InlineData(TcpEngine.IoUring)]
    public async Task Pipelined_SixteenDeepOnSeveralConnections_AnswersEveryRequestInOrder(TcpEngine engine)
    {
        if (IoUringTcpTestSupport.Unavailable(engine, output))
        {
            return;
        }

        using var host = await TunedTcpTestHost.StartAsync(o => { o.AcceptLoops = 1; o.Engine = engine; }, k => k.Listen(IPAddress.Loopback, 0), App);
        var port = TunedTcpTestHost.Port(host);
        var clients = Enumerable.Range(0, 8).Select(c => PipelineAsync(port, c, batches: 20)).ToArray();
        await Task.WhenAll(clients).WaitAsync(TestWaits.Bound);
        await host.StopAsync().WaitAsync(TestWaits.Bound);
    }

    [Theory]
    [InlineData(TcpEngine.Epoll, 0)]
    [InlineData(TcpEngine.IoUring, 0)]
    [InlineData(TcpEngine.IoUring, 64 * 1024)]
    public async Task LargeResponse_OneMiBKeptAlive_ArrivesByteExact(TcpEngine engine, int zeroCopySendThreshold)
    {
        if (IoUringTcpTestSupport.Unavailable(engine, output))
        {
            return;
        }

        using var host = await TunedTcpTestHost.StartAsync(
            o => { o.AcceptLoops = 1; o.Engine = engine; o.ZeroCopySendThreshold = zeroCopySendThreshold; },
            k => k.Listen(IPAddress.Loopback, 0),
            App);
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(IPAddress.Loopback, TunedTcpTestHost.Port(host)).WaitAsync(TestWaits.Bound);
        var reader = new ResponseReader(socket);
        for (var i = 0; i < 4; i++)
        {
            await socket.SendAsync(Encoding.ASCII.GetBytes("GET /large HTTP/1.1\r\nHost: localhost\r\n\r\n"));
            var body = await reader.ReadResponseAsync();
            Assert.Equal(LargeBody, body.Length);
            Assert.True(body.AsSpan().SequenceEqual(LargeBytes), $"response {i}: the body differs from what the app wrote");
        }

        if (zeroCopySendThreshold > 0)
        {
            var zeroCopySends = TunedTcpTestHost.Factory(host).IoUringListeners.Single().ZeroCopySends;
            output.WriteLine($"zero-copy sends: {zeroCopySends} (kernel support: {KcpKestrel.Transport.Tcp.IoUring.IoUringTcpSupport.ZeroCopySend})");
            Assert.True(zeroCopySends > 0 || !KcpKestrel.Transport.Tcp.IoUring.IoUringTcpSupport.ZeroCopySend, "no send went out zero-copy");
        }

        await host.StopAsync().WaitAsync(TestWaits.Bound);
    }

    [Fact]
    public async Task ConnectionChurn_ThroughKestrel_LeaksNoDescriptor()
    {
        if (IoUringTcpTestSupport.Unavailable(TcpEngine.IoUring, output))
        {
            return;
        }

        var before = FileDescriptors.Count();
        using (var host = await TunedTcpTestHost.StartAsync(o => { o.AcceptLoops = 1; o.Engine = TcpEngine.IoUring; }, k => k.Listen(IPAddress.Loopback, 0), App))
        {
            var port = TunedTcpTestHost.Port(host);
            for (var i = 0; i < 100; i++)
            {
                Assert.EndsWith($"/c{i}", await TunedTcpTestHost.RawGetAsync(port, $"/c{i}"), StringComparison.Ordinal);
            }

            await host.StopAsync().WaitAsync(TestWaits.Bound);
        }

        await FileDescriptors.WaitForAtMostAsync(before);
    }

    /// <summary>Writes <paramref name="batches"/> batches of <see cref="Depth"/> requests, each batch in one send, and checks every answer in order.</summary>
    private static async Task PipelineAsync(int port, int client, int batches)
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(IPAddress.Loopback, port).WaitAsync(TestWaits.Bound);
        var reader = new ResponseReader(socket);
        for (var b = 0; b < batches; b++)
        {
            var batch = new StringBuilder();
            for (var i = 0; i < Depth; i++)
            {
                batch.Append(CultureInfo.InvariantCulture, $"GET /c{client}/b{b}/r{i} HTTP/1.1\r\nHost: localhost\r\n\r\n");
            }

            await socket.SendAsync(Encoding.ASCII.GetBytes(batch.ToString()));
            for (var i = 0; i < Depth; i++)
            {
                Assert.Equal($"/c{client}/b{b}/r{i}", Encoding.ASCII.GetString(await reader.ReadResponseAsync()));
            }
        }
    }

    private static byte[] Seeded(int length, int seed)
    {
        var bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }

    /// <summary>Reads HTTP/1.1 responses with a Content-Length off one socket, one at a time, keeping what follows.</summary>
    private sealed class ResponseReader(Socket socket)
    {
        private readonly byte[] _chunk = new byte[64 * 1024];
        private byte[] _buffered = new byte[128 * 1024];
        private int _count;

        public async Task<byte[]> ReadResponseAsync()
        {
            int headerEnd;
            while ((headerEnd = _buffered.AsSpan(0, _count).IndexOf("\r\n\r\n"u8)) < 0)
            {
                await FillAsync();
            }

            var head = Encoding.ASCII.GetString(_buffered, 0, headerEnd);
            Assert.StartsWith("HTTP/1.1 200", head, StringComparison.Ordinal);
            var lengthLine = head.Split("\r\n").Single(l => l.StartsWith("Content-Length:", StringComparison.OrdinalIgnoreCase));
            var length = int.Parse(lengthLine["Content-Length:".Length..].Trim(), CultureInfo.InvariantCulture);
            var total = headerEnd + 4 + length;
            while (_count < total)
            {
                await FillAsync();
            }

            var body = _buffered.AsSpan(headerEnd + 4, length).ToArray();
            _buffered.AsSpan(total, _count - total).CopyTo(_buffered);
            _count -= total;
            return body;
        }

        private async Task FillAsync()
        {
            var n = await socket.ReceiveAsync(_chunk).WaitAsync(TestWaits.Bound);
            Assert.True(n > 0, "the server closed the connection before the response was complete");
            if (_count + n > _buffered.Length)
            {
                Array.Resize(ref _buffered, Math.Max(_buffered.Length * 2, _count + n));
            }

            _chunk.AsSpan(0, n).CopyTo(_buffered.AsSpan(_count));
            _count += n;
        }
    }
}
