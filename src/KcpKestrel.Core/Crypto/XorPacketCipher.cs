using System.Numerics;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;

namespace KcpKestrel.Core.Crypto;

/// <summary>
/// kcptun's "xor": the datagram XORed with a 1500-byte table, <c>pbkdf2(key, "sH3CIVoF#rWLtJo6", 32, 1500, SHA-1)</c>.
/// Bytes past the table's end are left as they are, as kcp-go's xor.Bytes does (it stops at the shorter slice).
/// </summary>
internal sealed class XorPacketCipher : KcpHeaderPacketCipher
{
    /// <summary>kcp-go's mtuLimit, the table length.</summary>
    public const int TableSize = 1500;

    private readonly byte[] _table;

    public XorPacketCipher(ReadOnlySpan<byte> key)
    {
#pragma warning disable CA5379, CA5387 // kcp-go's table derivation, fixed by the wire format.
        _table = Rfc2898DeriveBytes.Pbkdf2(key, Encoding.ASCII.GetBytes("sH3CIVoF#rWLtJo6"), 32, HashAlgorithmName.SHA1, TableSize);
#pragma warning restore CA5379, CA5387
    }

    public override string Name => "xor";

    protected override void Encrypt(Span<byte> datagram) => Apply(datagram, 0);

    protected override void Decrypt(ReadOnlySpan<byte> received, Span<byte> part, int offset) => Apply(part, offset);

    /// <summary>XORs <paramref name="part"/>, the datagram's bytes from <paramref name="offset"/> on, with the table.</summary>
    private void Apply(Span<byte> part, int offset)
    {
        var data = part[..Math.Clamp(TableSize - offset, 0, part.Length)];
        var table = _table.AsSpan(Math.Min(offset, TableSize), data.Length);
        var i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            var vd = MemoryMarshal.Cast<byte, Vector<byte>>(data);
            var vt = MemoryMarshal.Cast<byte, Vector<byte>>(table);
            for (var v = 0; v < vd.Length; v++)
            {
                vd[v] ^= vt[v];
            }

            i = vd.Length * Vector<byte>.Count;
        }

        for (; i < data.Length; i++)
        {
            data[i] ^= table[i];
        }
    }

    protected override void Dispose(bool disposing)
    {
        CryptographicOperations.ZeroMemory(_table);
        base.Dispose(disposing);
    }
}
