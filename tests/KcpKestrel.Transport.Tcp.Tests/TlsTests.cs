using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Hosting;

namespace KcpKestrel.Transport.Tcp.Tests;

public sealed class TlsTests
{
    [Fact]
    public async Task UseHttps_ServesTlsOverTheTunedListener()
    {
        using var certificate = CreateSelfSigned();
        using var host = await TunedTcpTestHost.StartAsync(
            o => { o.AcceptLoops = 2; o.BindAllIPEndPoints = false; },
            k => k.ListenTunedTcp(IPAddress.Loopback, 0, lo => lo.UseHttps(certificate)),
            static ctx => ctx.Response.WriteAsync(ctx.Request.IsHttps ? "tls" : "plain"));

        using var handler = new SocketsHttpHandler();
        handler.SslOptions.RemoteCertificateValidationCallback = (_, presented, _, _) =>
            presented is not null && presented.GetCertHashString() == certificate.GetCertHashString();
        using var client = new HttpClient(handler) { Timeout = TunedTcpTestHost.Bound };

        var body = await client.GetStringAsync(new Uri($"https://localhost:{TunedTcpTestHost.Port(host)}/"));
        Assert.Equal("tls", body);
        Assert.Equal(1, TunedTcpTestHost.Listener(host).Accepted);
        await host.StopAsync().WaitAsync(TunedTcpTestHost.Bound);
    }

    private static X509Certificate2 CreateSelfSigned()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=localhost", key, HashAlgorithmName.SHA256);
        var san = new SubjectAlternativeNameBuilder();
        san.AddDnsName("localhost");
        san.AddIpAddress(IPAddress.Loopback);
        request.CertificateExtensions.Add(san.Build());
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], critical: false));
        using var ephemeral = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1));
        // A PKCS#12 round trip gives a certificate whose private key SslStream can use on every platform.
        return X509CertificateLoader.LoadPkcs12(ephemeral.Export(X509ContentType.Pkcs12), null);
    }
}
