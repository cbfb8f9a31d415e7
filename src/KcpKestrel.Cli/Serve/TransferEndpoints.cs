using System.Buffers;
using System.Globalization;
using System.Security.Cryptography;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace KcpKestrel.Cli.Serve;

/// <summary>
/// The bulk endpoints of <c>--app http</c> that transfers are checked with: <c>GET /bytes/{n}</c> streams n bytes of
/// <see cref="Fill"/>'s pattern (a client recomputes it, so a lost, duplicated or reordered chunk shows as a
/// mismatch), and <c>POST /sha256</c> answers the SHA-256 of the request body in lowercase hex. Both stream: neither
/// holds more than one chunk of the body, so a 1 GiB transfer costs the server what a 64 KiB one does.
/// </summary>
internal static class TransferEndpoints
{
    /// <summary>The largest <c>/bytes/{n}</c> served: bigger asks are 400s, not an endless response.</summary>
    public const long MaxBytes = 64L << 30;

    private const int Chunk = 64 * 1024;

    /// <summary>Maps both endpoints.</summary>
    public static void MapTo(IEndpointRouteBuilder web)
    {
        web.MapGet("/bytes/{n}", static (HttpContext context, string n) => WriteBytesAsync(context, n));
        web.MapPost("/sha256", static (HttpContext context) => HashBodyAsync(context));
    }

    /// <summary>
    /// Writes the pattern's bytes from stream offset <paramref name="offset"/> on into <paramref name="destination"/>:
    /// the top byte of offset times the 64-bit golden ratio, which repeats nowhere a transfer could reach.
    /// </summary>
    public static void Fill(Span<byte> destination, long offset)
    {
        var x = unchecked((ulong)offset * 0x9E3779B97F4A7C15UL);
        for (var i = 0; i < destination.Length; i++)
        {
            destination[i] = (byte)(x >> 56);
            x = unchecked(x + 0x9E3779B97F4A7C15UL);
        }
    }

    /// <summary>The SHA-256 (lowercase hex) of the first <paramref name="length"/> bytes of the pattern.</summary>
    public static string PatternSha256(long length)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var buffer = ArrayPool<byte>.Shared.Rent(Chunk);
        try
        {
            for (long offset = 0; offset < length; offset += Chunk)
            {
                var span = buffer.AsSpan(0, (int)Math.Min(Chunk, length - offset));
                Fill(span, offset);
                hash.AppendData(span);
            }

            return Convert.ToHexStringLower(hash.GetCurrentHash());
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private static async Task WriteBytesAsync(HttpContext context, string n)
    {
        if (!long.TryParse(n, NumberStyles.None, CultureInfo.InvariantCulture, out var length) || length > MaxBytes)
        {
            context.Response.StatusCode = StatusCodes.Status400BadRequest;
            await context.Response.WriteAsync($"n must be a whole number of bytes from 0 to {MaxBytes}\n", context.RequestAborted).ConfigureAwait(false);
            return;
        }

        context.Response.ContentType = "application/octet-stream";
        context.Response.ContentLength = length;
        var writer = context.Response.BodyWriter;
        for (long offset = 0; offset < length;)
        {
            var size = (int)Math.Min(Chunk, length - offset);
            Fill(writer.GetSpan(size)[..size], offset);
            writer.Advance(size);
            offset += size;
            var flushed = await writer.FlushAsync(context.RequestAborted).ConfigureAwait(false);
            if (flushed.IsCanceled || flushed.IsCompleted)
            {
                return;
            }
        }
    }

    private static async Task HashBodyAsync(HttpContext context)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var reader = context.Request.BodyReader;
        while (true)
        {
            var read = await reader.ReadAsync(context.RequestAborted).ConfigureAwait(false);
            foreach (var segment in read.Buffer)
            {
                hash.AppendData(segment.Span);
            }

            reader.AdvanceTo(read.Buffer.End);
            if (read.IsCompleted || read.IsCanceled)
            {
                break;
            }
        }

        context.Response.ContentType = "text/plain";
        await context.Response.WriteAsync(Convert.ToHexStringLower(hash.GetCurrentHash()) + "\n", context.RequestAborted).ConfigureAwait(false);
    }
}
