// A Grpc.AspNetCore greeter served over KCP (HTTP/2 prior knowledge, FEC 10/3, AES-128-GCM) and
// a GrpcChannel calling it over KCP: unary, server streaming, client streaming and bidi calls.
using System.Diagnostics;
using System.Net;
using Grpc.Core;
using Grpc.Net.Client;
using GrpcOverKcp;
using KcpKestrel.Transport.Kcp;
using KcpKestrel.Transport.Kcp.Client;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

// Both ends must agree on FEC shards, cipher and key.
static void Configure(KcpOptions k)
{
    k.DataShards = 10;
    k.ParityShards = 3;
    k.Crypt = "aes-128-gcm";
    k.Key = "grpc-sample-secret";
}

ListenOptions? kcp = null;
var builder = WebApplication.CreateSlimBuilder(args);
builder.Logging.SetMinimumLevel(LogLevel.Warning);
builder.Services.AddGrpc();
builder.WebHost.UseKcp();
builder.WebHost.ConfigureKestrel(o => o.ListenKcp(IPAddress.Loopback, 0, Configure, l =>
{
    kcp = l;
    l.Protocols = HttpProtocols.Http2;
}));
await using var app = builder.Build();
app.MapGrpcService<GreeterService>();
await app.StartAsync();
Console.WriteLine($"gRPC server on {kcp!.EndPoint} (FEC 10/3, aes-128-gcm)");

var clientKcp = new KcpOptions();
Configure(clientKcp);
await using var factory = new KcpConnectionFactory(new KcpClientOptions { Kcp = clientKcp });

// The host name is only the :authority; every call goes to the KCP endpoint.
using var channel = GrpcChannel.ForAddress("http://kcp-server", new GrpcChannelOptions
{
    HttpHandler = KcpHttpHandler.Create(factory, (KcpEndPoint)kcp.EndPoint),
});
var client = new Greeter.GreeterClient(channel);

var unary = await client.SayHelloAsync(new HelloRequest { Name = "KCP" });
Console.WriteLine($"Unary: {unary.Message}");

var watch = Stopwatch.StartNew();
const int Calls = 1000;
for (var i = 0; i < Calls; i++)
{
    await client.SayHelloAsync(new HelloRequest { Name = "loop" });
}

Console.WriteLine($"Unary x{Calls}: {Calls / watch.Elapsed.TotalSeconds:F0} calls/s, one at a time");

using (var call = client.SayHelloMany(new HelloRequest { Name = "stream", Count = 1000 }))
{
    var received = 0;
    await foreach (var reply in call.ResponseStream.ReadAllAsync())
    {
        received++;
    }

    Console.WriteLine($"Server streaming: {received} replies");
}

using (var call = client.GreetEveryone())
{
    for (var i = 0; i < 1000; i++)
    {
        await call.RequestStream.WriteAsync(new HelloRequest { Name = $"n{i}" });
    }

    await call.RequestStream.CompleteAsync();
    Console.WriteLine($"Client streaming: {(await call).Message}");
}

using (var call = client.Chat())
{
    var reader = Task.Run(async () =>
    {
        var n = 0;
        await foreach (var reply in call.ResponseStream.ReadAllAsync())
        {
            n++;
        }

        return n;
    });
    for (var i = 0; i < 1000; i++)
    {
        await call.RequestStream.WriteAsync(new HelloRequest { Name = $"n{i}" });
    }

    await call.RequestStream.CompleteAsync();
    Console.WriteLine($"Bidi: 1000 sent, {await reader} replies");
}

await app.StopAsync();
Console.WriteLine("Done.");
