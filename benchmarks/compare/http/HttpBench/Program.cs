// Requests per second of one minimal API + gRPC app over KCP and over Kestrel's sockets transport,
// same host, same process, same run: HTTP/1.1 keep-alive GET and gRPC unary, N concurrent callers,
// fixed duration per round, rounds interleaved (KCP, TCP, KCP, TCP...) so neighbours' noise hits both.
// Usage: dotnet run -c Release --project benchmarks/compare/http/HttpBench -- [seconds=5] [concurrency=32] [rounds=2] [--wait]
// --wait keeps the server up after printing its endpoints (for wrk against the TCP one).
using System.Diagnostics;
using System.Globalization;
using System.Net;
using Grpc.Core;
using Grpc.Net.Client;
using HttpBench;
using KcpKestrel.Transport.Kcp;
using KcpKestrel.Transport.Kcp.Client;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

var positional = args.Where(a => !a.StartsWith("--", StringComparison.Ordinal)).ToArray();
var seconds = positional.Length > 0 ? int.Parse(positional[0], CultureInfo.InvariantCulture) : 5;
var concurrency = positional.Length > 1 ? int.Parse(positional[1], CultureInfo.InvariantCulture) : 32;
var rounds = positional.Length > 2 ? int.Parse(positional[2], CultureInfo.InvariantCulture) : 2;
const string Key = "bench-secret";

// Two KCP profiles: the transport's defaults (fast mode, FEC 10/3, AES) and a lean one (no FEC, no cipher).
static void Defaults(KcpOptions k) => k.Key = Key;
static void Lean(KcpOptions k)
{
    k.Key = Key;
    k.Crypt = "none";
    k.DataShards = 0;
    k.ParityShards = 0;
}

var endpoints = new Dictionary<string, ListenOptions>();
var builder = WebApplication.CreateSlimBuilder();
builder.Logging.SetMinimumLevel(LogLevel.Warning);
builder.Services.AddGrpc();
builder.WebHost.UseKcp();
builder.WebHost.ConfigureKestrel(o =>
{
    o.ListenKcp(IPAddress.Loopback, 0, Defaults, l => { l.Protocols = HttpProtocols.Http1; endpoints["kcp-h1"] = l; });
    o.ListenKcp(IPAddress.Loopback, 0, Defaults, l => { l.Protocols = HttpProtocols.Http2; endpoints["kcp-h2"] = l; });
    o.ListenKcp(IPAddress.Loopback, 0, Lean, l => { l.Protocols = HttpProtocols.Http1; endpoints["lean-h1"] = l; });
    o.ListenKcp(IPAddress.Loopback, 0, Lean, l => { l.Protocols = HttpProtocols.Http2; endpoints["lean-h2"] = l; });
    o.Listen(IPAddress.Loopback, 0, l => { l.Protocols = HttpProtocols.Http1; endpoints["tcp-h1"] = l; });
    o.Listen(IPAddress.Loopback, 0, l => { l.Protocols = HttpProtocols.Http2; endpoints["tcp-h2"] = l; });
});
await using var app = builder.Build();
app.MapGet("/hello", () => "Hello, world!");
app.MapGrpcService<GreeterService>();
await app.StartAsync();
foreach (var (name, listen) in endpoints)
{
    Console.WriteLine($"{name}: {listen.EndPoint}");
}

if (args.Contains("--wait"))
{
    Console.WriteLine("Serving; press Enter to stop.");
    Console.ReadLine();
    return;
}

var defaultsOptions = new KcpOptions();
Defaults(defaultsOptions);
var leanOptions = new KcpOptions();
Lean(leanOptions);
await using var defaultsFactory = new KcpConnectionFactory(new KcpClientOptions { Kcp = defaultsOptions });
await using var leanFactory = new KcpConnectionFactory(new KcpClientOptions { Kcp = leanOptions });

HttpMessageHandler Handler(string name) => name switch
{
    "kcp-h1" or "kcp-h2" => KcpHttpHandler.Create(defaultsFactory, (KcpEndPoint)endpoints[name].EndPoint),
    "lean-h1" or "lean-h2" => KcpHttpHandler.Create(leanFactory, (KcpEndPoint)endpoints[name].EndPoint),
    _ => new SocketsHttpHandler(),
};

string Address(string name) => name.StartsWith("tcp", StringComparison.Ordinal) ? $"http://{endpoints[name].EndPoint}/" : "http://kcp-server/";

var results = new Dictionary<string, List<double>>();
void Record(string key, double rate)
{
    if (!results.TryGetValue(key, out var list))
    {
        results[key] = list = [];
    }

    list.Add(rate);
    Console.WriteLine($"  {key,-16} {rate,10:F0} req/s");
}

// Warm-up: JIT, connection pools.
await HttpRoundAsync("kcp-h1", 1);
await HttpRoundAsync("tcp-h1", 1);
await GrpcRoundAsync("kcp-h2", 1);
await GrpcRoundAsync("tcp-h2", 1);
results.Clear();

for (var round = 1; round <= rounds; round++)
{
    Console.WriteLine($"Round {round} ({seconds} s each, {concurrency} callers)");
    foreach (var name in new[] { "kcp-h1", "lean-h1", "tcp-h1" })
    {
        Record($"http1 {name[..^3]}", await HttpRoundAsync(name, seconds));
    }

    foreach (var name in new[] { "kcp-h2", "lean-h2", "tcp-h2" })
    {
        Record($"grpc {name[..^3]}", await GrpcRoundAsync(name, seconds));
    }
}

Console.WriteLine();
Console.WriteLine("| workload | KCP defaults (req/s) | KCP lean (req/s) | TCP (req/s) | KCP/TCP | lean/TCP |");
Console.WriteLine("|---|---|---|---|---|---|");
foreach (var workload in new[] { "http1", "grpc" })
{
    var kcp = results[$"{workload} kcp"].Average();
    var lean = results[$"{workload} lean"].Average();
    var tcp = results[$"{workload} tcp"].Average();
    Console.WriteLine($"| {(workload == "http1" ? "HTTP/1.1 keep-alive GET" : "gRPC unary (HTTP/2)")} | {kcp:F0} | {lean:F0} | {tcp:F0} | {kcp / tcp:F2} | {lean / tcp:F2} |");
}

await app.StopAsync();

// HTTP/1.1 keep-alive: one HttpClient (one connection) per caller.
async Task<double> HttpRoundAsync(string name, int duration)
{
    var clients = new HttpClient[concurrency];
    for (var i = 0; i < concurrency; i++)
    {
        clients[i] = new HttpClient(Handler(name)) { BaseAddress = new Uri(Address(name)) };
    }

    var uri = new Uri("hello", UriKind.Relative);
    var rate = await RunAsync(duration, async (i, token) =>
    {
        using var response = await clients[i].GetAsync(uri, token);
        response.EnsureSuccessStatusCode();
    });
    foreach (var client in clients)
    {
        client.Dispose();
    }

    return rate;
}

// gRPC unary: callers share a few channels (HTTP/2 multiplexes; one more connection per 8 callers).
async Task<double> GrpcRoundAsync(string name, int duration)
{
    var channels = new GrpcChannel[Math.Max(1, concurrency / 8)];
    var greeters = new Greeter.GreeterClient[channels.Length];
    for (var i = 0; i < channels.Length; i++)
    {
        channels[i] = GrpcChannel.ForAddress(Address(name), new GrpcChannelOptions { HttpHandler = Handler(name) });
        greeters[i] = new Greeter.GreeterClient(channels[i]);
    }

    var request = new HelloRequest { Name = "bench" };
    var rate = await RunAsync(duration, async (i, token) => await greeters[i % greeters.Length].SayHelloAsync(request, cancellationToken: token));
    foreach (var channel in channels)
    {
        channel.Dispose();
    }

    return rate;
}

async Task<double> RunAsync(int duration, Func<int, CancellationToken, Task> call)
{
    long count = 0;
    using var cts = new CancellationTokenSource();
    var watch = Stopwatch.StartNew();
    var deadline = TimeSpan.FromSeconds(duration);
    var workers = new Task[concurrency];
    for (var i = 0; i < concurrency; i++)
    {
        var index = i;
        workers[i] = Task.Run(async () =>
        {
            while (watch.Elapsed < deadline)
            {
                await call(index, cts.Token);
                Interlocked.Increment(ref count);
            }
        });
    }

    await Task.WhenAll(workers);
    return count / watch.Elapsed.TotalSeconds;
}

/// <summary>The greeter; only unary is measured.</summary>
internal sealed class GreeterService : Greeter.GreeterBase
{
    public override Task<HelloReply> SayHello(HelloRequest request, ServerCallContext context)
        => Task.FromResult(new HelloReply { Message = "Hello, " + request.Name });
}
