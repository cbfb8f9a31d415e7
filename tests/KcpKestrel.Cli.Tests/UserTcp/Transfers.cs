using System.Buffers;
using System.Net;
using System.Security.Cryptography;
using KcpKestrel.Cli.Serve;

namespace KcpKestrel.Cli.Tests.UserTcp;

/// <summary>The checked transfers the interop tests run over a kernel HttpClient: requests, an upload and a download.</summary>
internal static class Transfers
{
    /// <summary><paramref name="count"/> GETs of /plaintext one after another; every one must be 200 with the body.</summary>
    public static async Task RequestsAsync(HttpClient client, int count)
    {
        for (var i = 0; i < count; i++)
        {
            using var response = await client.GetAsync("/plaintext");
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal("Hello, World!", await response.Content.ReadAsStringAsync());
        }
    }

    /// <summary>POSTs <paramref name="length"/> bytes of the pattern to /sha256 (streamed) and checks the server's hash.</summary>
    public static async Task UploadAsync(HttpClient client, long length)
    {
        using var content = new StreamContent(new PatternStream(length), 64 * 1024);
        content.Headers.ContentLength = length;
        using var response = await client.PostAsync("/sha256", content);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(TransferEndpoints.PatternSha256(length), (await response.Content.ReadAsStringAsync()).Trim());
    }

    /// <summary>GETs /bytes/<paramref name="length"/> and checks its length and every byte against the pattern.</summary>
    public static async Task DownloadAsync(HttpClient client, long length)
    {
        using var response = await client.GetAsync($"/bytes/{length}", HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        await using var body = await response.Content.ReadAsStreamAsync();
        Assert.Equal(TransferEndpoints.PatternSha256(length), await HashAsync(body, length));
    }

    /// <summary>SHA-256 of a stream that must hold exactly <paramref name="length"/> bytes.</summary>
    public static async Task<string> HashAsync(Stream body, long length)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var buffer = ArrayPool<byte>.Shared.Rent(64 * 1024);
        try
        {
            long total = 0;
            int read;
            while ((read = await body.ReadAsync(buffer)) > 0)
            {
                hash.AppendData(buffer, 0, read);
                total += read;
            }

            Assert.Equal(length, total);
            return Convert.ToHexStringLower(hash.GetCurrentHash());
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}
