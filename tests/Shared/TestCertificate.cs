using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace KcpKestrel.Tests.Shared;

/// <summary>A self-signed ECDSA server certificate for localhost and 127.0.0.1, made once per test process (shared: do not dispose it).</summary>
internal static class TestCertificate
{
    private static readonly Lazy<X509Certificate2> s_instance = new(Create);

    public static X509Certificate2 Instance => s_instance.Value;

    private static X509Certificate2 Create()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=localhost", key, HashAlgorithmName.SHA256);
        var san = new SubjectAlternativeNameBuilder();
        san.AddDnsName("localhost");
        san.AddIpAddress(System.Net.IPAddress.Loopback);
        request.CertificateExtensions.Add(san.Build());
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, critical: true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], critical: false));
        using var created = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(7));

        // An ephemeral key is not usable by SslStream on Linux; a PFX round trip gives a persisted one.
        var pfx = created.Export(X509ContentType.Pfx, "test");
        return X509CertificateLoader.LoadPkcs12(pfx, "test");
    }
}
