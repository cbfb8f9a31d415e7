using System.Text;
using CsCheck;
using KcpKestrel.Protocols.Snappy;

namespace KcpKestrel.Http.Tests.Snappy;

/// <summary>The three-lane CRC-32C against the check value and a bit-at-a-time reference.</summary>
public sealed class Crc32CTests
{
    [Fact]
    public void Compute_CheckString_MatchesCatalogue()
    {
        Assert.Equal(0xE3069283u, Crc32C.Compute(Encoding.ASCII.GetBytes("123456789")));
    }

    [Fact]
    public void Compute_AnyLength_MatchesBitwiseReference()
    {
        // Lengths either side of the three-lane blocks (12 KiB) and of whole 8-byte words.
        Gen.Byte.Array[0, 40_000].Sample(data => Assert.Equal(Reference(data), Crc32C.Compute(data)), iter: 200);
        var chunk = new byte[65536];
        new Random(9).NextBytes(chunk);
        Assert.Equal(Reference(chunk), Crc32C.Compute(chunk));
    }

    private static uint Reference(byte[] data)
    {
        var crc = uint.MaxValue;
        foreach (var b in data)
        {
            crc ^= b;
            for (var i = 0; i < 8; i++)
            {
                crc = (crc & 1) != 0 ? (crc >> 1) ^ 0x82F63B78u : crc >> 1;
            }
        }

        return ~crc;
    }
}
