// Requests per second of one minimal API + gRPC app over KCP and over Kestrel's sockets transport,
// same host, same process, same run: HTTP/1.1 keep-alive GET and gRPC unary, N concurrent callers,
// fixed duration per round, short rounds interleaved (KCP, lean KCP, TCP, KCP...) so neighbours' noise
// hits all of them; the ratio reported is the median of the per-round ratios, the rates are means.
// Clients and connections are made once and kept across rounds (keep-alive).
// Usage: dotnet run -c Release --project benchmarks/compare/http/HttpBench -- [seconds=2] [concurrency=32] [rounds=8] [--wait]
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
var seconds = positional.Length > 0 ? int.Parse(positional[0], CultureInfo.InvariantCulture) : 2;
var concurrency = positional.Length > 1 ? int.Parse(positional[1], CultureInfo.InvariantCulture) : 32;
var rounds = positional.Length > 2 ? int.Parse(positional[2], CultureInfo.InvariantCulture) : 8;
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

// One HttpClient (one keep-alive connection) per caller for HTTP/1.1; gRPC callers share a few
// channels (HTTP/2 multiplexes; one connection per 8 callers).
var httpClients = new Dictionary<string, HttpClient[]>();
var greeters = new Dictionary<string, Greeter.GreeterClient[]>();
var channels = new List<GrpcChannel>();
foreach (var name in new[] { "kcp-h1", "lean-h1", "tcp-h1" })
{
    httpClients[name] = Enumerable.Range(0, concurrency).Select(_ => new HttpClient(Handler(name)) { BaseAddress = new Uri(Address(name)) }).ToArray();
}

foreach (var name in new[] { "kcp-h2", "lean-h2", "tcp-h2" })
{
    greeters[name] = Enumerable.Range(0, Math.Max(1, concurrency / 8)).Select(_ =>
    {
        var channel = GrpcChannel.ForAddress(Address(name), new GrpcChannelOptions { HttpHandler = Handler(name) });
        channels.Add(channel);
        return new Greeter.GreeterClient(channel);
    }).ToArray();
}

// Warm-up: JIT, connections.
foreach (var name in httpClients.Keys)
{
    await HttpRoundAsync(name, 1);
}

foreach (var name in greeters.Keys)
{
    await GrpcRoundAsync(name, 1);
}

var results = new Dictionary<string, List<double>>();
void Record(string key, double rate)
{
    if (!results.TryGetValue(key, out var list))
    {
        results[key] = list = [];
    }

    list.Add(rate);
    Console.Write($"  {key} {rate:F0}");
}

for (var round = 1; round <= rounds; round++)
{
    Console.Write($"Round {round}:");
    foreach (var name in httpClients.Keys)
    {
        Record($"http1 {name[..^3]}", await HttpRoundAsync(name, seconds));
    }

    foreach (var name in greeters.Keys)
    {
        Record($"grpc {name[..^3]}", await GrpcRoundAsync(name, seconds));
    }

    Console.WriteLine();
}

Console.WriteLine();
Console.WriteLine($"{rounds} rounds x {seconds} s per profile, {concurrency} callers, {Environment.ProcessorCount} cores, load average at end: {File.ReadAllText("/proc/loadavg").Split(' ')[0]}");
Console.WriteLine("| workload | KCP defaults (req/s) | KCP lean (req/s) | TCP (req/s) | KCP/TCP (median of rounds) | lean/TCP (median) |");
Console.WriteLine("|---|---|---|---|---|---|");
foreach (var workload in new[] { "http1", "grpc" })
{
    var kcp = results[$"{workload} kcp"];
    var lean = results[$"{workload} lean"];
    var tcp = results[$"{workload} tcp"];
    Console.WriteLine($"| {(workload == "http1" ? "HTTP/1.1 keep-alive GET" : "gRPC unary (HTTP/2)")} | {kcp.Average():F0} | {lean.Average():F0} | {tcp.Average():F0} | {MedianRatio(kcp, tcp):F2} | {MedianRatio(lean, tcp):F2} |");
}

foreach (var client in httpClients.Values.SelectMany(c => c))
{
    client.Dispose();
}

foreach (var channel in channels)
{
    channel.Dispose();
}

await app.StopAsync();

static double MedianRatio(List<double> a, List<double> b)
{
    var ratios = a.Zip(b, (x, y) => x / y).Order().ToArray();
    return ratios.Length % 2 == 1 ? ratios[ratios.Length / 2] : (ratios[(ratios.Length / 2) - 1] + ratios[ratios.Length / 2]) / 2;
}

async Task<double> HttpRoundAsync(string name, int duration)
{
    var clients = httpClients[name];
    var uri = new Uri("hello", UriKind.Relative);
    return await RunAsync(duration, async (i, token) =>
    {
        using var response = await clients[i].GetAsync(uri, token);
        response.EnsureSuccessStatusCode();
    });
}

async Task<double> GrpcRoundAsync(string name, int duration)
{
    var clients = greeters[name];
    var request = new HelloRequest { Name = "bench" };
    return await RunAsync(duration, async (i, token) => await clients[i % clients.Length].SayHelloAsync(request, cancellationToken: token));
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
