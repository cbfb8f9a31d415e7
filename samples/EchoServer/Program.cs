// A ConnectionHandler (length-prefixed echo) served over KCP and TCP by one Kestrel host,
// and a client loop over each: dial, send messages, check the echoes, print round-trip times.
using System.Buffers;
using System.Diagnostics;
using System.IO.Pipelines;
using System.Net.Sockets;
using System.Net;
using EchoServer;
using KcpKestrel.Protocols;
using KcpKestrel.Transport.Kcp.Client;
using KcpKestrel.Transport.Kcp;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

const string Key = "echo-sample-secret";
ListenOptions? kcp = null;
ListenOptions? tcp = null;
var builder = WebApplication.CreateSlimBuilder(args);
builder.Logging.SetMinimumLevel(LogLevel.Warning);
builder.Services.AddSingleton<FramedEchoHandler>();
builder.WebHost.UseKcp();
builder.WebHost.ConfigureKestrel(o =>
{
    o.ListenKcp(IPAddress.Loopback, 0, k => k.Key = Key, l => (kcp = l).UseConnectionHandler<FramedEchoHandler>());
    o.Listen(IPAddress.Loopback, 0, l => (tcp = l).UseConnectionHandler<FramedEchoHandler>());
});
await using var app = builder.Build();
await app.StartAsync();
Console.WriteLine($"Echo server: {kcp!.EndPoint} (KCP) and tcp://{tcp!.EndPoint}");

// Client over KCP: the factory dials (with its own retries and timeout) and hands back pipes.
await using (var factory = new KcpConnectionFactory(new KcpClientOptions { Kcp = new KcpOptions { Key = Key } }))
{
    await using var connection = await factory.ConnectAsync(kcp.EndPoint);
    await RunClientAsync("KCP", connection.Transport.Input, connection.Transport.Output);
    Console.WriteLine($"  KCP session: {connection.Features.Get<IKcpSessionFeature>()!.GetStatistics()}");
}

// The same client loop over TCP.
using (var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true })
{
    await socket.ConnectAsync((IPEndPoint)tcp.EndPoint);
    await using var stream = new NetworkStream(socket, ownsSocket: false);
    await RunClientAsync("TCP", PipeReader.Create(stream), PipeWriter.Create(stream));
}

await app.StopAsync();
Console.WriteLine("Done.");

static async Task RunClientAsync(string name, PipeReader input, PipeWriter output)
{
    const int Count = 500;
    var random = new Random(1);
    var rtts = new double[Count];
    long bytes = 0;
    for (var i = 0; i < Count; i++)
    {
        var message = new byte[random.Next(1, 16 * 1024)];
        random.NextBytes(message);
        var start = Stopwatch.GetTimestamp();
        LengthPrefixedProtocol.Write(output, message);
        await output.FlushAsync();
        var echo = await ReadMessageAsync(input);
        rtts[i] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
        if (!echo.AsSpan().SequenceEqual(message))
        {
            throw new InvalidDataException($"{name}: message {i} came back different.");
        }

        bytes += message.Length;
    }

    Array.Sort(rtts);
    Console.WriteLine($"{name}: {Count} messages ({bytes / 1024} KiB) echoed intact; RTT p50 {rtts[Count / 2]:F2} ms, p99 {rtts[Count * 99 / 100]:F2} ms");
}

static async Task<byte[]> ReadMessageAsync(PipeReader input)
{
    while (true)
    {
        var result = await input.ReadAsync();
        var buffer = result.Buffer;
        if (LengthPrefixedProtocol.TryRead(ref buffer, out var message, FramedEchoHandler.MaxMessageSize))
        {
            var bytes = message.ToArray();
            input.AdvanceTo(buffer.Start);
            return bytes;
        }

        input.AdvanceTo(buffer.Start, buffer.End);
        if (result.IsCompleted)
        {
            throw new IOException("The server closed the connection mid-message.");
        }
    }
}
