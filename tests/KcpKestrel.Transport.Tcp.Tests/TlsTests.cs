using System.Net;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Hosting;
using Xunit.Abstractions;

namespace KcpKestrel.Transport.Tcp.Tests;

public sealed class TlsTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData(TcpEngine.Epoll)]
    [InlineData(TcpEngine.IoUring)]
    public async Task UseHttps_ServesTlsOverTheTunedListener(TcpEngine engine)
    {
        if (IoUringTcpTestSupport.Unavailable(engine, output))
        {
            return;
        }

        var certificate = TestCertificate.Instance;
        using var host = await TunedTcpTestHost.StartAsync(
            o => { o.AcceptLoops = 2; o.BindAllIPEndPoints = false; o.Engine = engine; },
            k => k.ListenTunedTcp(IPAddress.Loopback, 0, lo => lo.UseHttps(certificate)),
            static ctx => ctx.Response.WriteAsync(ctx.Request.IsHttps ? "tls" : "plain"));

        using var handler = new SocketsHttpHandler();
        handler.SslOptions.RemoteCertificateValidationCallback = (_, presented, _, _) =>
            presented is not null && presented.GetCertHashString() == certificate.GetCertHashString();
        using var client = new HttpClient(handler) { Timeout = TunedTcpTestHost.Bound };

        var body = await client.GetStringAsync(new Uri($"https://localhost:{TunedTcpTestHost.Port(host)}/"));
        Assert.Equal("tls", body);
        Assert.Equal(1, TunedTcpTestHost.Accepted(host));
        await host.StopAsync().WaitAsync(TunedTcpTestHost.Bound);
    }
}
