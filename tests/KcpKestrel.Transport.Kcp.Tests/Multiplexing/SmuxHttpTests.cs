using System.Net;
using System.Text;
using KcpKestrel.Transport.Kcp.Tests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;

namespace KcpKestrel.Transport.Kcp.Tests.Multiplexing;

/// <summary>An ASP.NET Core minimal API over a multiplexing KCP endpoint: HTTP/1.1 on every smux stream.</summary>
public sealed class SmuxHttpTests
{
    [Theory]
    [InlineData(1, false)]
    [InlineData(2, true)]
    public async Task MinimalApi_RequestsOnSeveralStreamsOfOneSession_EachAnswered(int version, bool compress)
    {
        ListenOptions? listen = null;
        var host = await KestrelTestHost.StartAsync(web => web
            .UseKestrel(o => o.ListenKcp(IPAddress.Loopback, 0, k =>
            {
                k.Crypt = "aes";
                k.Key = "test-secret";
                SmuxListenerTests.Smux(k, version, compress);
            }, l =>
            {
                listen = l;
                l.Protocols = HttpProtocols.Http1;
            }))
            .UseKcp()
            .ConfigureServices(s => s.AddRouting())
            .Configure(app =>
            {
                app.UseRouting();
                app.UseEndpoints(e => e.MapGet("/hello/{n:int}", (int n, HttpContext context) =>
                    $"hello {n} on stream {context.Features.Get<IKcpStreamFeature>()!.StreamId}"));
            }));
        try
        {
            await using var factory = KcpTestHost.Client().CreateFactory();
            await using var client = await SmuxTestClient.ConnectAsync(factory, (KcpEndPoint)listen!.EndPoint, version, compress);
            var requests = Enumerable.Range(1, 6).Select(async n =>
            {
                var stream = await client.OpenAsync();
                await stream.Output.WriteAsync(Encoding.ASCII.GetBytes($"GET /hello/{n} HTTP/1.1\r\nHost: kcp\r\nConnection: close\r\n\r\n"));
                var response = Encoding.ASCII.GetString(await TestWaits.ReadToEndAsync(stream.Input).WaitAsync(TestWaits.Bound));
                return (n, stream.Id, response);
            });

            foreach (var (n, id, response) in await Task.WhenAll(requests))
            {
                Assert.StartsWith("HTTP/1.1 200 OK", response, StringComparison.Ordinal);
                Assert.Contains($"hello {n} on stream {id}\r\n", response, StringComparison.Ordinal);
            }

            Assert.Null(client.Session.CloseReason);
        }
        finally
        {
            await KestrelTestHost.StopAndDisposeAsync(host, TimeSpan.FromSeconds(5));
        }
    }
}
